package httpconfig_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze/collect/httpconfig"
)

func TestCloseIdle(t *testing.T) {
	for name, o := range map[string]httpconfig.Options{
		"A transport":                   {},
		"A transport scrubbing secrets": {BearerToken: "s3cret"},
	} {
		t.Run(name+" closes the connections it keeps open once told it is done with them.", func(t *testing.T) {
			closed := make(chan struct{}, 1)
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Write([]byte("{}"))
			}))
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateClosed {
					closed <- struct{}{}
				}
			}
			srv.Start()
			t.Cleanup(srv.Close)
			o.URL = srv.URL
			rt, err := o.RoundTripper()
			if err != nil {
				t.Fatal(err)
			}
			client := &http.Client{Transport: rt}
			resp, err := client.Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			httpconfig.CloseIdle(rt)
			// The server sees the connection closed by the client: without CloseIdle it stays
			// open until the transport's idle timeout, minutes later, and the test times out.
			<-closed
		})
	}
}

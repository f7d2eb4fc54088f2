package prometheus

import "testing"

func TestCheckAnswer(t *testing.T) {
	for _, tc := range []struct {
		name, path, body, want string
	}{
		{"A success with data passes.", "/api/v1/targets", `{"status":"success","data":{"activeTargets":[]}}`, ""},
		{"Data before the status is found too.", "/api/v1/targets", `{"data":{"activeTargets":[{"labels":{}}]},"warnings":["w"],"status":"success"}`, ""},
		{"Null data after the status is an error.", "/api/v1/targets", `{"status":"success","warnings":[],"data":null}`, "/api/v1/targets answered with no data"},
		{"Null data before the status is an error.", "/api/v1/rules", `{"data":null,"status":"success"}`, "/api/v1/rules answered with no data"},
		{"Null metric names are an empty list.", "/api/v1/label/__name__/values", `{"status":"success","data":null}`, ""},
		{"Absent metric names are an error.", "/api/v1/label/__name__/values", `{"status":"success"}`, "/api/v1/label/__name__/values answered with no data"},
		{"A body without a status is an error.", "/api/v1/query", `{"data":{"resultType":"vector","result":[]}}`, `/api/v1/query answered without "status":"success"`},
		{"An error envelope is left to client_golang.", "/api/v1/query", `{"status":"error","error":"bad"}`, ""},
		{"A body that is not an object is left to client_golang.", "/api/v1/query", `[1,2]`, ""},
		{"A truncated body is left to client_golang.", "/api/v1/query", `{"status":"success","da`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ""
			if err := checkAnswer(tc.path, []byte(tc.body)); err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("checkAnswer(%s) = %q, want %q", tc.body, got, tc.want)
			}
		})
	}
}

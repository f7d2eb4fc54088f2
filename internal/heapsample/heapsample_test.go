package heapsample_test

import (
	"runtime"
	"testing"

	"github.com/blindspot-dev/blindspot/internal/heapsample"
)

var sink [][]byte

func TestPeakSeesWhatRanInBetween(t *testing.T) {
	runtime.GC()
	stop := heapsample.Peak()
	for range 64 {
		sink = append(sink, make([]byte, 1<<20)) // 64 MiB, held until stop
	}
	peak := stop()
	sink = nil
	if peak < 60<<20 {
		t.Errorf("peak %d bytes above the start, want at least 60 MiB", peak)
	}
}

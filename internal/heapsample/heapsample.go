// Package heapsample measures the heap of what a benchmark runs, without stopping the world.
package heapsample

import (
	"runtime/metrics"
	"time"
)

// Objects is the bytes of live and not yet collected heap objects.
func Objects() uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	return sample[0].Value.Uint64()
}

// Peak samples Objects every millisecond (runtime/metrics, no stop-the-world) until the
// returned function is called, which returns the largest sample above the heap at the start:
// the peak heap of what ran in between (sampled once more when it is called).
func Peak() func() uint64 {
	base := Objects()
	done, result := make(chan struct{}), make(chan uint64)
	go func() {
		var peak uint64
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			peak = max(peak, Objects())
			select {
			case <-done:
				peak = max(peak, Objects())
				result <- peak - min(peak, base)
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(done); return <-result }
}

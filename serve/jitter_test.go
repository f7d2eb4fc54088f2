package serve

import (
	"testing"
	"time"
)

func TestJittered(t *testing.T) {
	t.Run("The wait moves by up to a tenth of the interval either way, and does move.", func(t *testing.T) {
		const d = 10 * time.Minute
		seen := map[time.Duration]bool{}
		for range 1000 {
			w := jittered(d)
			if w < d-d/10 || w > d+d/10 {
				t.Fatalf("jittered(%s) = %s, beyond a tenth", d, w)
			}
			seen[w] = true
		}
		if len(seen) < 100 {
			t.Errorf("%d distinct waits in 1000, want them spread", len(seen))
		}
	})
	t.Run("An interval too short to move is kept.", func(t *testing.T) {
		if w := jittered(5 * time.Nanosecond); w != 5*time.Nanosecond {
			t.Errorf("jittered(5ns) = %s", w)
		}
	})
}

package checks

import (
	"strconv"
	"testing"

	"github.com/blindspot-dev/blindspot/analyze"
)

func TestAFindingBufferGivesBackEveryFindingInOrder(t *testing.T) {
	for _, n := range []int{0, 1, 17, findingChunk, findingChunk + 1, 3*findingChunk + 5} {
		var b findingBuffer
		for i := range n {
			b.add(analyze.Finding{ID: strconv.Itoa(i)})
		}
		got := b.findings()
		if len(got) != n {
			t.Fatalf("%d added, %d given back", n, len(got))
		}
		for i, f := range got {
			if f.ID != strconv.Itoa(i) {
				t.Fatalf("%d added: position %d holds %s", n, i, f.ID)
			}
		}
	}
}

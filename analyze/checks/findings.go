package checks

import "github.com/blindspot-dev/blindspot/analyze"

// findingChunk is how many findings a findingBuffer holds per chunk.
const findingChunk = 512

// findingBuffer collects the findings of a check that may have one per rule: appending to one
// slice copies every finding again at each growth (by a quarter once large), which for the
// 200,000 findings of a 200,000-rule file allocated several times their size. Chunks are never
// copied until findings() copies them once into a slice of the exact size.
type findingBuffer struct {
	chunks [][]analyze.Finding
	n      int
}

func (b *findingBuffer) add(f analyze.Finding) {
	if len(b.chunks) == 0 || len(b.chunks[len(b.chunks)-1]) == findingChunk {
		b.chunks = append(b.chunks, make([]analyze.Finding, 0, min(findingChunk, max(b.n, 16))))
	}
	last := &b.chunks[len(b.chunks)-1]
	if len(*last) == cap(*last) {
		// The first chunks start small, for the checks that find little.
		grown := make([]analyze.Finding, len(*last), min(findingChunk, 2*cap(*last)))
		copy(grown, *last)
		*last = grown
	}
	*last = append(*last, f)
	b.n++
}

// findings returns the collected findings in the order they were added.
func (b *findingBuffer) findings() []analyze.Finding {
	if b.n == 0 {
		return nil
	}
	if len(b.chunks) == 1 {
		return b.chunks[0]
	}
	out := make([]analyze.Finding, 0, b.n)
	for _, c := range b.chunks {
		out = append(out, c...)
	}
	return out
}

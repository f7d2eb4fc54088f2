package links

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/blindspot-dev/blindspot/analyze"
)

// Checker fetches the runbook links of several inventories (the members of a fleet), each
// distinct link once whatever the number of inventories linking it. It is safe for concurrent
// use.
type Checker struct {
	o Options

	mu      sync.Mutex
	fetched map[string]*pending // by analyze.RunbookLinkKey
}

type pending struct {
	done chan struct{}
	link analyze.RunbookLink
	ok   bool // false when the value is not a web link: it has no entry
}

// NewChecker returns a checker fetching with o.
func NewChecker(o Options) *Checker {
	return &Checker{o: o, fetched: map[string]*pending{}}
}

// Collect records in inv what the runbook links of its alerting rules answered, fetching
// those no earlier call fetched. An inventory without rules is left alone.
func (c *Checker) Collect(ctx context.Context, inv *analyze.Inventory) {
	if !inv.Has(analyze.PartRules) {
		return
	}
	var mine, todo []string
	var waits []*pending
	c.mu.Lock()
	for _, l := range Annotations(inv, c.o.Annotation) {
		key := analyze.RunbookLinkKey(l)
		p, ok := c.fetched[key]
		if !ok {
			p = &pending{done: make(chan struct{})}
			c.fetched[key] = p
			todo = append(todo, l)
			mine = append(mine, key)
		}
		waits = append(waits, p)
	}
	c.mu.Unlock()

	got := Check(ctx, todo, c.o)
	c.mu.Lock()
	for _, key := range mine {
		p := c.fetched[key]
		i, found := slices.BinarySearchFunc(got, key, func(l analyze.RunbookLink, k string) int { return strings.Compare(l.Link, k) })
		if found {
			p.link, p.ok = got[i], true
		}
		close(p.done)
	}
	c.mu.Unlock()

	var out []analyze.RunbookLink
	for _, p := range waits {
		<-p.done
		if p.ok {
			out = append(out, p.link)
		}
	}
	inv.SetRunbookLinks(out)
}

// Links returns what every link fetched so far answered, sorted by Link.
func (c *Checker) Links() []analyze.RunbookLink {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := []analyze.RunbookLink{}
	for _, p := range c.fetched {
		select {
		case <-p.done:
			if p.ok {
				out = append(out, p.link)
			}
		default:
		}
	}
	slices.SortFunc(out, func(a, b analyze.RunbookLink) int { return strings.Compare(a.Link, b.Link) })
	return out
}

package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// progress returns a callback that keeps one line on the terminal up to date, or nil (no
// progress) when stderr is not a terminal or with --quiet: a log file or a CI job must not
// fill with carriage returns. Loki and Grafana are read at once, so their counts share the
// line instead of overwriting each other.
func (a *app) progress(what string) func(done, total int) {
	if a.quiet || !isCharDevice(a.stderr) {
		return nil
	}
	if a.progressLine == nil {
		a.progressLine = &progressLine{w: a.stderr}
	}
	return a.progressLine.task(what)
}

// progressLine is one terminal line showing the counts of tasks running at once
// ("sampling Loki streams: 3/50 · reading Grafana dashboards: 120/800"). It ends the line when
// every task that reported is done.
type progressLine struct {
	mu    sync.Mutex
	w     io.Writer
	tasks []*progressTask
	width int // of the last line drawn, to blank what a shorter one leaves behind
}

type progressTask struct {
	what        string
	done, total int
	reported    bool
}

func (p *progressLine) task(what string) func(done, total int) {
	t := &progressTask{what: what}
	p.mu.Lock()
	p.tasks = append(p.tasks, t)
	p.mu.Unlock()
	return func(done, total int) {
		p.mu.Lock()
		defer p.mu.Unlock()
		t.done, t.total, t.reported = done, total, true
		p.draw()
	}
}

func (p *progressLine) draw() {
	var parts []string
	finished := true
	for _, t := range p.tasks {
		if !t.reported {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s: %d/%d", t.what, t.done, t.total))
		finished = finished && t.done >= t.total
	}
	line := strings.Join(parts, " · ")
	n := utf8.RuneCountInString(line)
	fmt.Fprintf(p.w, "\r%s%s", line, strings.Repeat(" ", max(p.width-n, 0)))
	p.width = n
	if finished {
		fmt.Fprintln(p.w)
		// A task that reports later starts a new line of its own.
		p.tasks = slices.DeleteFunc(p.tasks, func(t *progressTask) bool { return t.reported })
		p.width = 0
	}
}

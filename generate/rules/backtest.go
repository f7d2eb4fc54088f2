package rules

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/prometheus/common/model"

	"github.com/blindspot-dev/blindspot/generate"
)

// tunedOptions are the options the alert called name of gap g is built with: the rate window
// its counter's history asks for, and the longer window and `for` of an alert that fired too
// often in the backtest.
func tunedOptions(o generate.Options, g gap, name string) generate.Options {
	o.Business.Window = o.Window(g.job, g.metric)
	if t, ok := o.Tuned(name); ok {
		if t.Window > 0 {
			o.Business.Window = t.Window
		}
		if t.For > 0 {
			o.UpFor, o.AbsentFor, o.Business.For = t.For, t.For, t.For
		}
	}
	return o
}

// Tunable says whether the backtest may give an alert of kind k a longer window or `for`: the
// gap alerts, whose promtool tests follow their options. Pack alerts carry the pack's tests,
// and blindspot's own alerts and the heartbeat are what they are.
func Tunable(k generate.Kind) bool {
	switch k {
	case generate.KindUp, generate.KindAbsent, generate.KindPoolEmpty, generate.KindRateDrop, generate.KindStaleness:
		return true
	}
	return false
}

// The pack alert that watches a Pushgateway group's pushes.
const (
	pushPack  = "pushgateway"
	pushAlert = "NoRecentPush"
)

// Backtested leaves out of the rule files planned before it the alerts the backtest found too
// noisy, and the "no recent push" alert of jobs whose Pushgateway groups are not pushed
// periodically, noting each. Without a backtest it changes nothing.
type Backtested struct{}

func (Backtested) Name() string   { return "backtest" }
func (Backtested) Dirs() []string { return nil }

func (Backtested) Generate(in generate.Input, out *generate.Output) error {
	bt := in.Options.Backtest
	if bt == nil {
		return nil
	}
	maxEpisodes := in.Options.MaxBacktestEpisodes
	var files []generate.RuleFile
	for _, rf := range out.RuleFiles {
		rf.Alerts = slices.DeleteFunc(slices.Clone(rf.Alerts), func(a generate.Alert) bool {
			if why, ok := bt.Unperiodic[a.Job]; ok && a.Pack == pushPack && a.PackAlert == pushAlert {
				out.Notes = append(out.Notes, fmt.Sprintf("left out %s for job %s: %s", a.Name, strconv.Quote(a.Job), why))
				return true
			}
			if r, ok := bt.Noisy[a.Name]; ok {
				out.Notes = append(out.Notes, fmt.Sprintf("left out %s: too noisy to generate, it %s (generate.max_backtest_episodes is %d)",
					a.Name, r.Sentence(bt.Lookback), maxEpisodes))
				return true
			}
			if t, ok := bt.Tuning[a.Name]; ok {
				out.Notes = append(out.Notes, tuningNote(a.Name, t, maxEpisodes))
			}
			return false
		})
		if len(rf.Alerts) > 0 {
			files = append(files, rf)
		}
	}
	out.RuleFiles = files
	return nil
}

// tuningNote says how an alert was tuned.
func tuningNote(name string, t generate.Tuning, max int) string {
	s := fmt.Sprintf("tuned %s, which fired more than %d times in the backtest: ", name, max)
	if t.Window > 0 {
		s += "rate window " + model.Duration(t.Window).String() + ", "
	}
	return s + "for " + model.Duration(t.For).String()
}

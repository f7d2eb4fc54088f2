package runbooks

import (
	"fmt"

	"github.com/blindspot-dev/blindspot/generate"
)

// backtestText says how the alert would have behaved over the history of the server it was
// generated for, and how it was tuned; "" when it was not backtested. It holds nothing from
// the monitored systems: no escaping is needed.
func backtestText(a generate.Alert, o generate.Options) string {
	bt := o.Backtest
	if bt == nil || bt.Lookback <= 0 {
		return ""
	}
	r, ok := bt.Results[a.Name]
	if !ok {
		return ""
	}
	s := fmt.Sprintf("over the last %s of the server's history, as it stood when the alert was generated, this alert %s.",
		generate.Days(bt.Lookback), r.Phrase())
	if _, tuned := bt.Tuning[a.Name]; tuned {
		s += fmt.Sprintf(" Its window and `for` were lengthened so that it fires at most %d times over that span (`generate.max_backtest_episodes`).", o.MaxBacktestEpisodes)
	}
	return s
}

package alerttests

import (
	"context"
	"fmt"
	"sort"
	"time"

	prommodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/tensorwasm/obsbundle/evaluator"
)

// epoch is where promtool's unit tests start time: the first input sample
// and the first evaluation are at the Unix epoch.
var epoch = time.Unix(0, 0).UTC()

const (
	// scrape is the spacing of input samples (the test group's interval).
	scrape = 15 * time.Second
	// horizon bounds how long a scenario is replayed; every alert must
	// fire within it.
	horizon = time.Hour
	// quiet is how long the inputs stay flat before traffic starts (the 40
	// zero samples of `rising`).
	quiet = 40 * scrape
)

// horizonFor is how long to replay a rule's scenario: until a few
// evaluations after it can first fire. Replaying less keeps the bundle
// quick to build; alerts that stay firing re-expand their templates at
// every step.
func horizonFor(r rulefmt.Rule) time.Duration {
	return min(horizon, quiet+time.Duration(r.For)+2*time.Minute)
}

// expectation is what promtool must see for one rule: nothing of that
// alert name firing at before, exactly alerts at at (offsets from epoch).
type expectation struct {
	before, at time.Duration
	alerts     []expAlert
}

// expect replays the scenario in-process with Prometheus' engine and reads
// the rule's first firing off it, so the expected time, labels and
// annotations (templates expanded by Prometheus) are never written by hand.
func expect(groups rulefmt.RuleGroups, r rulefmt.Rule, in []input, every time.Duration) (expectation, error) {
	events, err := replay(groups, r, in)
	if err != nil {
		return expectation{}, err
	}
	first, ok := firstFiring(events, r)
	if !ok {
		return expectation{}, fmt.Errorf("alert %s %v never fired within %s of its scenario", r.Alert, r.Labels, horizon)
	}
	before := first.At.Add(-every)
	if before.Before(epoch) {
		return expectation{}, fmt.Errorf("alert %s fires at the first evaluation, so nothing can be checked before it", r.Alert)
	}
	if early := firingAt(events, r.Alert, before); len(early) > 0 {
		return expectation{}, fmt.Errorf("scenario of %s does not isolate it: %s already fires at %s", r.Alert, early[0].Labels, before.Sub(epoch))
	}
	now := firingAt(events, r.Alert, first.At)
	alerts := make([]expAlert, 0, len(now))
	for _, e := range now {
		if !e.At.Equal(first.At) {
			// Only alerts that turned firing at this very step carry
			// annotations expanded at it.
			return expectation{}, fmt.Errorf("scenario of %s does not isolate it: %s fires since %s", r.Alert, e.Labels, e.At.Sub(epoch))
		}
		alerts = append(alerts, toExpAlert(e))
	}
	return expectation{before: before.Sub(epoch), at: first.At.Sub(epoch), alerts: alerts}, nil
}

// replay runs, over the scenario's input for the horizon, every rule of
// the alert's name (promtool checks them all) and what they read.
func replay(groups rulefmt.RuleGroups, target rulefmt.Rule, in []input) ([]evaluator.Event, error) {
	feed, err := feedOf(in)
	if err != nil {
		return nil, err
	}
	ev, err := evaluator.New(evaluator.Needed(groups.Groups, func(r rulefmt.Rule) bool { return r.Alert == target.Alert })...)
	if err != nil {
		return nil, err
	}
	defer ev.Close()
	if err := ev.Run(context.Background(), epoch, epoch.Add(horizonFor(target)), scrape, feed); err != nil {
		return nil, err
	}
	return ev.Events, nil
}

// expanded is one input series as promtool reads it.
type expanded struct {
	series labels.Labels
	values []parser.SequenceValue
}

// feedOf expands the input with Prometheus' own parser for promtool's
// series notation, so the in-process replay sees exactly the samples
// promtool will load: sample i at epoch + i*15s.
func feedOf(in []input) (evaluator.Feed, error) {
	p := parser.NewParser(parser.Options{})
	all := make([]expanded, 0, len(in))
	for _, s := range in {
		desc := seriesString(s.series) + " " + s.values
		lbls, values, err := p.ParseSeriesDesc(desc)
		if err != nil {
			return nil, fmt.Errorf("input series %s: %w", desc, err)
		}
		all = append(all, expanded{lbls, values})
	}
	return func(t time.Time, add func(labels.Labels, float64)) {
		i := int(t.Sub(epoch) / scrape)
		for _, s := range all {
			if i < len(s.values) && !s.values[i].Omitted {
				add(s.series, s.values[i].Value)
			}
		}
	}, nil
}

// firstFiring is the first time an alert of rule r fires: same name, and
// carrying every label the rule sets (the slo label tells apart the
// SLOMetricAbsent rules of different SLOs).
func firstFiring(events []evaluator.Event, r rulefmt.Rule) (evaluator.Event, bool) {
	for _, e := range events {
		if e.Alert == r.Alert && e.State == evaluator.Firing && hasLabels(e.Labels, r.Labels) {
			return e, true
		}
	}
	return evaluator.Event{}, false
}

func hasLabels(lbls labels.Labels, want map[string]string) bool {
	for k, v := range want {
		if lbls.Get(k) != v {
			return false
		}
	}
	return true
}

// firingAt returns the alerts named alert that are firing at t, each as
// the event that made it fire, sorted by labels. promtool compares the
// whole set of firing alerts of a name, so the expectation must too.
func firingAt(events []evaluator.Event, alert string, t time.Time) []evaluator.Event {
	state := map[string]evaluator.Event{}
	for _, e := range events {
		if e.Alert != alert || e.At.After(t) {
			continue
		}
		key := e.Labels.String()
		if e.State == evaluator.Resolved {
			delete(state, key)
			continue
		}
		state[key] = e
	}
	var out []evaluator.Event
	for _, e := range state {
		if e.State == evaluator.Firing {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return labels.Compare(out[i].Labels, out[j].Labels) < 0 })
	return out
}

// toExpAlert turns an event into promtool's expectation: promtool adds the
// alertname label itself, and alerts never carry __name__.
func toExpAlert(e evaluator.Event) expAlert {
	a := expAlert{Labels: map[string]string{}, Annotations: map[string]string{}}
	e.Labels.Range(func(l labels.Label) {
		if l.Name != labels.AlertName && l.Name != prommodel.MetricNameLabel {
			a.Labels[l.Name] = l.Value
		}
	})
	e.Annotations.Range(func(l labels.Label) { a.Annotations[l.Name] = l.Value })
	return a
}

// Package simulation replays a bundle's rules with Prometheus' engine on
// simulated traffic, one incident per SLO and error ratio, and records
// what every tier of package report's analysis actually did. It is what
// `go run ./cmd/report` prints beside the analysis; generation never runs
// it.
package simulation

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/tensorwasm/obsbundle/internal/rulefmt"

	"github.com/tensorwasm/obsbundle/evaluator"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/report"
	"github.com/tensorwasm/obsbundle/sim"
)

// Scenario builds the simulated service for one incident, with constant
// traffic from start.
type Scenario func(start time.Time, incident sim.Incident) *sim.Scenario

// For simulates any service from its model: an HTTP service whose request
// counter is the first events SLI's (with its counter of good or of bad
// events, if it names one), whose latency histogram is the first
// latency SLI's, at 10 requests a second spread over the routes its SLIs
// name, each well under its latency threshold, so only an incident's bad
// events count against an SLO.
func For(svc *model.Service) Scenario {
	h := sim.HTTP{RouteLabel: svc.RouteLabel, Labels: map[string]string{"instance": svc.Name + "-0"}}
	for k, v := range svc.Selector {
		h.Labels[k] = v
	}
	if h.RouteLabel == "" {
		h.RouteLabel = "route"
	}
	routes := map[string]*sim.Route{}
	var order []string
	route := func(path, method string) *sim.Route {
		key := path + " " + method
		if routes[key] == nil {
			routes[key] = &sim.Route{Path: path, Method: method, Latency: sim.LogNormal{Median: 0.001, Sigma: 0.3}}
			order = append(order, key)
		}
		return routes[key]
	}
	for _, o := range svc.SLOs {
		switch {
		case o.SLI.Events != nil && h.Requests == "":
			e := o.SLI.Events
			h.Requests, h.Successes, h.Failures = e.Metric, e.GoodMetric, e.BadMetric
			// The status label is the one whose matcher tells the
			// simulation's failures from its successes.
			for _, p := range []struct{ matchers, yes, no string }{{e.Bad, sim.StatusError, sim.StatusOK}, {e.Good, sim.StatusOK, sim.StatusError}} {
				for _, m := range mustMatchers(p.matchers) {
					if m.Matches(p.yes) && !m.Matches(p.no) {
						h.StatusLabel = m.Name
					}
				}
			}
		case o.SLI.Latency != nil:
			l := o.SLI.Latency
			h.Native = h.Native || l.Native
			if h.Duration == "" {
				h.Duration = l.Metric
				m, _ := svc.Metric(l.Metric)
				h.Buckets = m.Buckets
			}
			path, method := "/", "GET"
			for _, m := range mustMatchers(l.Matchers) {
				if m.Type != labels.MatchEqual {
					continue
				}
				switch m.Name {
				case h.RouteLabel:
					path = m.Value
				case "method":
					method = m.Value
				}
			}
			r := route(path, method)
			// A tenth of the threshold, with little spread: practically
			// every request is fast until an incident slows it.
			median := l.Threshold / 10
			if r.Latency.Median == 0.001 || median < r.Latency.Median {
				r.Latency.Median = median
			}
		}
	}
	if len(order) == 0 {
		route("/", "GET")
	}
	for _, key := range order {
		r := routes[key]
		r.Share = 1 / float64(len(order))
		h.Routes = append(h.Routes, *r)
	}
	return func(start time.Time, incident sim.Incident) *sim.Scenario {
		run := h
		run.Routes = append([]sim.Route{}, h.Routes...)
		run.Traffic, run.Start, run.Incidents = sim.Constant(10), start, []sim.Incident{incident}
		return &sim.Scenario{HTTP: &run}
	}
}

func mustMatchers(s string) []*labels.Matcher {
	ms, _ := model.ParseMatchers(s)
	return ms
}

// epoch starts every replay; any minute-aligned time would do.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const scrape = 15 * time.Second

// Simulate replays the rules of svc against a scenario per SLO and ratio,
// all tiers of the SLO at once, and records what each tier did. Replays run
// in parallel, one per core.
func Simulate(ctx context.Context, svc *model.Service, groups rulefmt.RuleGroups, scenario Scenario, cells []report.Cell) error {
	type job struct {
		slo   model.SLO
		ratio float64
		cells []*report.Cell
	}
	var jobs []*job
	index := map[string]*job{}
	for i := range cells {
		c := &cells[i]
		key := fmt.Sprintf("%s %g", c.SLO.Name, c.Ratio)
		if index[key] == nil {
			index[key] = &job{slo: c.SLO, ratio: c.Ratio}
			jobs = append(jobs, index[key])
		}
		index[key].cells = append(index[key].cells, c)
	}
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = replay(ctx, svc, groups, scenario, j.slo, j.ratio, j.cells)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// replay runs one incident: a clean history as long as the SLO's longest
// window, errors at ratio until every tier that can fire has fired, then
// clean traffic until every tier has reset.
func replay(ctx context.Context, svc *model.Service, groups rulefmt.RuleGroups, scenario Scenario, o model.SLO, ratio float64, cells []*report.Cell) error {
	history := model.TierWindows(o)[len(model.TierWindows(o))-1].Std()
	incident := incidentFor(svc, o, ratio)
	incident.Start = history
	incident.Duration = history // long enough to show a tier that never fires
	var resets time.Duration
	for _, c := range cells {
		if c.Caught {
			incident.Duration = max(incident.Duration, c.Detect)
			resets = max(resets, c.Reset)
		}
	}
	incident.Duration += 2 * svc.EvaluationInterval.Std()
	end := epoch.Add(history + incident.Duration + resets + 10*svc.EvaluationInterval.Std())

	ev, err := evaluator.New(groups.Groups...)
	if err != nil {
		return err
	}
	defer ev.Close()
	s := scenario(epoch, incident)
	if err := ev.ScrapeHistograms(ctx, epoch, end, scrape, s.Scrape, func(_ time.Time, add func(labels.Labels, *histogram.FloatHistogram)) {
		s.NativeHistograms(add)
	}); err != nil {
		return err
	}
	if err := ev.Evaluate(ctx, epoch, end); err != nil {
		return err
	}
	start, stop := epoch.Add(history), epoch.Add(history+incident.Duration)
	for _, c := range cells {
		c.Simulated = outcome(ev.Events, c.Tier, o.Name, start, stop)
	}
	return nil
}

// outcome reads when a tier's alert first fired after the errors began and
// when it resolved after they stopped.
func outcome(events []evaluator.Event, t model.Tier, slo string, start, stop time.Time) *report.Outcome {
	out := &report.Outcome{}
	for _, e := range events {
		if e.Alert != t.RuleName() || e.Labels.Get(model.LabelTier) != t.Name || e.Labels.Get(model.LabelSLO) != slo {
			continue
		}
		switch {
		case e.State == evaluator.Firing && !out.Caught && !e.At.Before(start):
			out.Caught, out.Detect = true, e.At.Sub(start)
		case e.State == evaluator.Resolved && out.Caught && !e.At.Before(stop):
			out.Reset = e.At.Sub(stop)
			return out
		}
	}
	return out
}

// incidentFor makes the SLI's bad events happen at ratio: failures for an
// event SLI, requests slower than any bucket for a latency SLI, on the route
// the SLI watches.
func incidentFor(svc *model.Service, o model.SLO, ratio float64) sim.Incident {
	if o.SLI.Latency == nil {
		return sim.Incident{ErrorRatio: ratio}
	}
	in := sim.Incident{SlowRatio: ratio}
	ms, _ := model.ParseMatchers(o.SLI.Latency.Matchers)
	for _, m := range ms {
		if m.Name == svc.RouteLabel && m.Type == labels.MatchEqual {
			in.Routes = []string{m.Value}
		}
	}
	return in
}

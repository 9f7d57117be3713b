package report

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"

	"github.com/tensorwasm/obsbundle/evaluator"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/sim"
)

// Scenario builds the simulated service for one incident, with constant
// traffic from start.
type Scenario func(start time.Time, incident sim.Incident) *sim.Scenario

// TensorWasm simulates TensorWasm at 10 requests a second, with latency
// tight enough that only the incident's slow requests miss a latency SLO.
func TensorWasm(start time.Time, incident sim.Incident) *sim.Scenario {
	s := sim.TensorWasm(start, sim.Constant(10), incident)
	for i := range s.HTTP.Routes {
		s.HTTP.Routes[i].Latency.Sigma = 0.3
	}
	return s
}

// epoch starts every replay; any minute-aligned time would do.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const scrape = 15 * time.Second

// Simulate replays the rules of svc against a scenario per SLO and ratio,
// all tiers of the SLO at once, and records what each tier did. Replays run
// in parallel, one per core.
func Simulate(ctx context.Context, svc *model.Service, groups rulefmt.RuleGroups, scenario Scenario, cells []Cell) error {
	type job struct {
		slo   model.SLO
		ratio float64
		cells []*Cell
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
func replay(ctx context.Context, svc *model.Service, groups rulefmt.RuleGroups, scenario Scenario, o model.SLO, ratio float64, cells []*Cell) error {
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
	if err := ev.Run(ctx, epoch, end, scrape, s.Scrape); err != nil {
		return err
	}
	start, stop := epoch.Add(history), epoch.Add(history+incident.Duration)
	for _, c := range cells {
		c.Simulated = outcome(ev.Events, model.AlertName(c.Tier.Alert), o.Name, start, stop)
	}
	return nil
}

// outcome reads when a tier's alert first fired after the errors began and
// when it resolved after they stopped.
func outcome(events []evaluator.Event, alert, slo string, start, stop time.Time) *Outcome {
	out := &Outcome{}
	for _, e := range events {
		if e.Alert != alert || e.Labels.Get(model.LabelSLO) != slo {
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

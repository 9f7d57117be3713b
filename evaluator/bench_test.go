package evaluator_test

import (
	"context"
	"testing"
	"time"

	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/evaluator"
	"github.com/tensorwasm/obsbundle/rules"
	"github.com/tensorwasm/obsbundle/sim"
)

// BenchmarkReplayMonth replays 30 simulated days of TensorWasm's rules over
// its whole simulated contract (diurnal traffic, Poisson noise), scraped
// every 15s and evaluated every minute, and reports the samples the engine
// reads per one-minute evaluation cycle. Run it with
//
//	go test ./evaluator -run '^$' -bench ReplayMonth -benchtime 1x
func BenchmarkReplayMonth(b *testing.B) {
	s := catalog.TensorWasm()
	svc := &s.Services[0]
	groups, err := rules.Build(svc, s.Version)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const days = 30
	for b.Loop() {
		ev, err := evaluator.New(groups.Groups...)
		if err != nil {
			b.Fatal(err)
		}
		scenario := catalog.Simulation(start, sim.Diurnal(50, 10))
		scenario.HTTP.ErrorRatio = func(time.Duration) float64 { return 0.001 }
		scenario.HTTP.Seed = 1
		end := start.Add(days * 24 * time.Hour)
		if err := ev.Run(context.Background(), start, end, 15*time.Second, scenario.Scrape); err != nil {
			b.Fatal(err)
		}
		cycles := float64(end.Sub(start) / svc.EvaluationInterval.Std())
		b.ReportMetric(float64(ev.Samples)/cycles, "samples/cycle")
		b.ReportMetric(days, "simulated-days")
		ev.Close()
	}
}

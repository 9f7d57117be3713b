package specgen_test

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/internal/specgen"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/spec"
)

// Every generated spec validates (Generate panics otherwise), is the same
// for the same seed and index, and its YAML loads back as the same spec.
func TestGeneratedSpecsValidateAndRoundTripThroughYAML(t *testing.T) {
	stats := map[string]int{}
	for i := range 100 {
		g := specgen.Generate(7, i)
		require.Equal(t, g, specgen.Generate(7, i), "spec %d is not deterministic", i)
		y := specgen.YAML(g.Spec)
		back, err := spec.Parse("gen.yaml", []byte(y))
		require.NoError(t, err, "spec %d:\n%s", i, y)
		if !reflect.DeepEqual(g.Spec, back) {
			t.Fatalf("spec %d changed through YAML:\n%s\nwas %+v\nnow %+v", i, y, g.Spec, back)
		}
		stats["services"] += len(g.Spec.Services)
		for _, svc := range g.Spec.Services {
			if len(svc.SLOs) == 0 {
				stats["services without SLOs"]++
			}
			for _, o := range svc.SLOs {
				stats["SLOs"]++
				stats["alerting "+string(o.Alerting)]++
				if o.SLI.Latency != nil {
					stats["latency SLIs"]++
				}
				for _, tr := range o.Tiers {
					stats["tiers"]++
					if o.Alerting == model.RatioAlerting && tr.Threshold(o.BudgetRatio()) >= 0.5 {
						stats["ratio tiers with threshold >= 0.5"]++
					}
				}
			}
			stats["interval "+svc.EvaluationInterval.String()]++
		}
	}
	t.Logf("%v", stats)
	require.Len(t, specgen.Intervals(), 10, "10s, 12s, 15s, 16s, 20s, 24s, 30s, 40s, 48s, 1m: %v", specgen.Intervals())
}

package rules_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/evaluator"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/rules"
	"github.com/tensorwasm/obsbundle/sim"
)

// A tier's own labels and annotations go on its own alert, in whatever
// order the spec lists the tiers (the rules order them fastest first).
func TestTierLabelsGoOnTheirOwnTiersAlert(t *testing.T) {
	svc := tensorWasm(t)
	for i := range svc.SLOs {
		o := &svc.SLOs[i]
		slices.Reverse(o.Tiers)
		for j := range o.Tiers {
			o.Tiers[j].Labels = map[string]string{"routing_key": o.Tiers[j].Name}
			o.Tiers[j].Annotations = map[string]string{model.AnnotationSummary: "tier " + o.Tiers[j].Name}
		}
	}
	require.NoError(t, (&model.Spec{Name: "t", Version: "1.0.0", Services: []model.Service{*svc}}).Validate())
	groups, err := rules.Build(svc, "1.0.0")
	require.NoError(t, err)
	n := 0
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if tier := r.Labels[model.LabelTier]; tier != "" {
				n++
				require.Equal(t, tier, r.Labels["routing_key"], r.Alert)
				require.Equal(t, "tier "+tier, r.Annotations[model.AnnotationSummary], r.Alert)
			}
		}
	}
	require.Positive(t, n)
}

// Tiers that share one alert name, as Sloth's do, are still told apart by
// the incident: every page and resolve of an outage replay happens at the
// same time, for the same tier, as when each tier has a name of its own.
func TestTiersSharingAnAlertNameBehaveAsWhenNamedApart(t *testing.T) {
	apart := tensorWasm(t)
	shared := sharedNames(t, tensorWasm(t))
	outages := map[string][]sim.Incident{
		"a full outage": {{Start: 3 * time.Hour, Duration: 20 * time.Minute, ErrorRatio: 1}},
		"a slow burn escalating": {
			{Start: 6 * time.Hour, Duration: 4 * time.Hour, ErrorRatio: 0.05},
			{Start: 10 * time.Hour, Duration: 20 * time.Minute, ErrorRatio: 1},
		},
		"two outages 40 minutes apart": {
			{Start: 3 * time.Hour, Duration: 10 * time.Minute, ErrorRatio: 1},
			{Start: 3*time.Hour + 50*time.Minute, Duration: 10 * time.Minute, ErrorRatio: 0.2},
		},
	}
	for name, incidents := range outages {
		t.Run(name, func(t *testing.T) {
			scenario := catalog.Simulation(epoch, sim.Constant(20), incidents...)
			length := incidents[len(incidents)-1].Start + 3*time.Hour
			want := timeline(replay(t, apart, scenario.Scrape, length))
			got := timeline(replay(t, shared, scenario.Scrape, length))
			require.NotEmpty(t, want)
			require.Equal(t, want, got)
		})
	}
}

// sharedNames gives every tier of svc one alert name, as Sloth fires one
// name for all of a service's burn alerts.
func sharedNames(t *testing.T, svc *model.Service) *model.Service {
	t.Helper()
	for i := range svc.SLOs {
		for j := range svc.SLOs[i].Tiers {
			svc.SLOs[i].Tiers[j].AlertName = "TensorWasmBudgetBurn"
		}
	}
	require.NoError(t, (&model.Spec{Name: "t", Version: "1.0.0", Services: []model.Service{*svc}}).Validate())
	return svc
}

// timeline lists the firing and resolving of every alert by its slo and
// tier (or its name, for an alert without a tier), without the alert name.
func timeline(ev *evaluator.Evaluator) []string {
	var out []string
	for _, e := range ev.Events {
		if e.State == evaluator.Pending {
			continue
		}
		who := e.Labels.Get(model.LabelTier)
		if who == "" {
			who = e.Alert
		}
		out = append(out, fmt.Sprintf("%s %s/%s %s", e.At.Sub(epoch), e.Labels.Get(model.LabelSLO), who, e.State))
	}
	return out
}

// Where an SLO's tiers share names, its incident's ALERTS selectors pick
// tiers by their tier label; where they do not, by name alone, as before.
func TestIncidentSelectorsPickTiersByLabelOnlyWhereNamesAreShared(t *testing.T) {
	for _, svc := range []*model.Service{tensorWasm(t), sharedNames(t, tensorWasm(t))} {
		groups, err := rules.Build(svc, "1.0.0")
		require.NoError(t, err)
		seen := map[bool]int{}
		for _, g := range groups.Groups {
			for _, r := range g.Rules {
				if !strings.Contains(r.Expr, "ALERTS{") {
					continue
				}
				o, ok := svc.SLO(r.Labels[model.LabelSLO])
				require.True(t, ok)
				names := map[string]bool{}
				for _, t := range o.Tiers {
					names[t.RuleName()] = true
				}
				shared := len(names) < len(o.Tiers)
				seen[shared]++
				require.Equal(t, shared, strings.Contains(r.Expr, model.LabelTier+"="), "%s of %s", r.Alert, o.Name)
			}
		}
		require.Positive(t, seen[false]+seen[true])
	}
}

package routing_test

import (
	"testing"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/dispatch"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/rules"
)

// Issue 11, item 9: Alertmanager was once seen delivering a page and a
// resolve twice, 1 s apart. Alertmanager notifies an alert once per route
// it matches and per integration of the receiver, so the generated routing
// could cause that only if an alert matched two routes (a `continue`, an
// overlapping matcher) or a receiver listed its target twice. It does
// neither, for every alert the bundle can raise: the duplicate came from
// elsewhere (see compose/faults_test.go: a kill -9 re-sends once, a minute
// later, under the same group key).
func TestEveryAlertMatchesOneRouteWithOneIntegration(t *testing.T) {
	s := catalog.TensorWasm()
	groups, err := rules.Build(&s.Services[0], s.Version)
	require.NoError(t, err)
	for name, cfg := range configs(t) {
		tree := dispatch.NewRoute(cfg.Route, nil)
		n := 0
		for _, g := range groups.Groups {
			for _, r := range g.Rules {
				if r.Alert == "" {
					continue
				}
				ls := model.LabelSet{model.AlertNameLabel: model.LabelValue(r.Alert)}
				for k, v := range r.Labels {
					ls[model.LabelName(k)] = model.LabelValue(v)
				}
				routes := tree.Match(ls)
				require.Len(t, routes, 1, "%s: %s matches %d routes", name, r.Alert, len(routes))
				require.Equal(t, 1, integrations(t, cfg, routes[0].RouteOpts.Receiver), "%s: receiver %s", name, routes[0].RouteOpts.Receiver)
				n++
			}
		}
		require.Positive(t, n)
	}
}

// integrations counts the notifiers of the named receiver.
func integrations(t *testing.T, cfg *amconfig.Config, receiver string) int {
	t.Helper()
	for _, r := range cfg.Receivers {
		if r.Name == receiver {
			return len(r.WebhookConfigs) + len(r.PagerdutyConfigs) + len(r.SlackConfigs) + len(r.EmailConfigs) + len(r.OpsGenieConfigs)
		}
	}
	t.Fatalf("no receiver %q", receiver)
	return 0
}

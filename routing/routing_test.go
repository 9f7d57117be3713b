package routing_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/dispatch"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/internal/debian"
	"github.com/tensorwasm/obsbundle/internal/examples"
	obs "github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/routing"
)

func configs(t *testing.T) map[string]*amconfig.Config {
	t.Helper()
	s := catalog.TensorWasm()
	prod, err := routing.Production(s)
	require.NoError(t, err)
	demo, err := routing.Demo(s, "http://127.0.0.1:9464")
	require.NoError(t, err)
	out := map[string]*amconfig.Config{}
	for name, data := range map[string][]byte{"production": prod, "demo": demo} {
		cfg, err := amconfig.Load(string(data))
		require.NoError(t, err, name)
		out[name] = cfg
		file := filepath.Join(t.TempDir(), name+".yml")
		require.NoError(t, os.WriteFile(file, data, 0o644))
		out, err := exec.Command(debian.Binary(t, "amtool"), "check-config", file).CombinedOutput()
		require.NoError(t, err, "amtool check-config %s:\n%s", name, out)
	}
	return out
}

func alert(kv ...string) model.LabelSet {
	ls := model.LabelSet{}
	for i := 0; i+1 < len(kv); i += 2 {
		ls[model.LabelName(kv[i])] = model.LabelValue(kv[i+1])
	}
	return ls
}

func TestAlertsRouteBySeverity(t *testing.T) {
	for name, cfg := range configs(t) {
		route := func(ls model.LabelSet) string {
			for _, r := range cfg.Route.Routes {
				matched := true
				for _, m := range r.Matchers {
					matched = matched && m.Matches(string(ls[model.LabelName(m.Name)]))
				}
				if matched {
					return r.Receiver
				}
			}
			return cfg.Route.Receiver
		}
		require.Equal(t, obs.PageReceiver, route(alert("severity", "page")), name)
		require.Equal(t, obs.TicketReceiver, route(alert("severity", "ticket")), name)
		require.Equal(t, []string{"service", "slo"}, groupBy(cfg), name)
	}
}

func groupBy(cfg *amconfig.Config) []string {
	var out []string
	for _, l := range cfg.Route.GroupBy {
		out = append(out, string(l))
	}
	return out
}

// inhibited says whether a firing source alert silences target under cfg.
func inhibited(cfg *amconfig.Config, source, target model.LabelSet) bool {
	for _, r := range cfg.InhibitRules {
		ok := true
		for _, m := range r.SourceMatchers {
			ok = ok && m.Matches(string(source[model.LabelName(m.Name)]))
		}
		for _, m := range r.TargetMatchers {
			ok = ok && m.Matches(string(target[model.LabelName(m.Name)]))
		}
		for _, l := range r.Equal {
			ok = ok && source[model.LabelName(l)] == target[model.LabelName(l)]
		}
		if ok {
			return true
		}
	}
	return false
}

func TestFasterTiersAndPagesSilenceTheRest(t *testing.T) {
	tier := func(name, severity string) model.LabelSet {
		return alert("service", "tensor-wasm", "slo", "availability_http", "tier", name, "severity", severity)
	}
	fast, slow, verySlow := tier("fast", "page"), tier("slow", "page"), tier("very-slow", "ticket")
	for name, cfg := range configs(t) {
		require.True(t, inhibited(cfg, fast, slow), name)
		require.True(t, inhibited(cfg, fast, verySlow), name)
		require.True(t, inhibited(cfg, slow, verySlow), name)
		require.False(t, inhibited(cfg, slow, fast), "a slower tier never silences a faster one")
		require.False(t, inhibited(cfg, verySlow, slow))
		other := alert("service", "tensor-wasm", "slo", "latency_http_invoke", "tier", "fast", "severity", "page")
		require.False(t, inhibited(cfg, other, verySlow), "inhibition stays within one SLO")
	}
}

func TestProductionReadsSecretsFromFilesOnly(t *testing.T) {
	cfg := configs(t)["production"]
	for _, r := range cfg.Receivers {
		for _, pd := range r.PagerdutyConfigs {
			require.Equal(t, obs.PagerDutyKeyFile, pd.RoutingKeyFile)
			require.Empty(t, pd.RoutingKey)
		}
		for _, sl := range r.SlackConfigs {
			require.Equal(t, obs.SlackURLFile, sl.APIURLFile)
			require.Nil(t, sl.APIURL)
		}
	}
	demo, err := routing.Demo(catalog.TensorWasm(), "http://127.0.0.1:9464")
	require.NoError(t, err)
	require.Contains(t, string(demo), "url: http://127.0.0.1:9464/alerts/page")
	require.Contains(t, string(demo), "url: http://127.0.0.1:9464/alerts/ticket")
}

// Generation no longer loads what it writes: every example's
// configurations must load with Alertmanager's loader here.
func TestEveryExampleConfigurationLoads(t *testing.T) {
	for name, s := range examples.Specs(t) {
		prod, err := routing.Production(s)
		require.NoError(t, err, name)
		demo, err := routing.Demo(s, "http://127.0.0.1:9464")
		require.NoError(t, err, name)
		for _, data := range [][]byte{prod, demo} {
			_, err := amconfig.Load(string(data))
			require.NoError(t, err, "%s:\n%s", name, data)
		}
	}
}

// Tiers may carry severity values of their own (Sloth's page_alert often
// sets severity: pageteam, and routes match it): pages and tickets still
// reach their receivers, and a page still silences the tickets of its SLO.
func TestTiersOwnSeverityValuesRouteAsTheirSeverity(t *testing.T) {
	s := catalog.TensorWasm()
	own := map[obs.Severity]string{obs.Page: "pageteam", obs.Ticket: "slack"}
	tiers := s.Services[0].SLOs[0].Tiers
	for i := range tiers {
		tiers[i].Labels = map[string]string{obs.LabelSeverity: own[tiers[i].Severity]}
	}
	require.NoError(t, s.Validate())
	for name, render := range map[string]func() ([]byte, error){
		"production": func() ([]byte, error) { return routing.Production(s) },
		"demo":       func() ([]byte, error) { return routing.Demo(s, "http://127.0.0.1:9464") },
	} {
		data, err := render()
		require.NoError(t, err)
		cfg, err := amconfig.Load(string(data))
		require.NoError(t, err, name)
		root := dispatch.NewRoute(cfg.Route, nil)
		receiver := func(ls model.LabelSet) string { return root.Match(ls)[0].RouteOpts.Receiver }
		for value, want := range map[string]string{"pageteam": obs.PageReceiver, "page": obs.PageReceiver, "slack": obs.TicketReceiver, "ticket": obs.TicketReceiver} {
			require.Equal(t, want, receiver(alert("severity", value, "service", "tensor-wasm")), "%s: severity %s", name, value)
		}
		tier := func(name, severity string) model.LabelSet {
			return alert("service", "tensor-wasm", "slo", "availability_http", "tier", name, "severity", severity)
		}
		require.True(t, inhibited(cfg, tier("fast", "pageteam"), tier("very-slow", "slack")), name)
		require.False(t, inhibited(cfg, tier("very-slow", "slack"), tier("fast", "pageteam")), name)
	}

	// A value may not mark pages and tickets both.
	tiers[len(tiers)-1].Labels = map[string]string{obs.LabelSeverity: "pageteam"}
	err := s.Validate()
	require.ErrorContains(t, err, `labels.severity: expected a severity value of ticket alerts only, but page alerts carry "pageteam" too`)
}

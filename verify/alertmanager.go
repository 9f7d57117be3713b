package verify

import (
	"context"
	"fmt"
	"reflect"
	"sort"

	"github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/dispatch"
	prommodel "github.com/prometheus/common/model"

	"github.com/tensorwasm/obsbundle/model"
)

// alertmanager checks, with the configuration Alertmanager has loaded
// (/api/v2/status), that every alert of the bundle is routed below the
// root by its severity: one that only reaches the root's fallback receiver
// is not routed on purpose, and one that reaches a receiver without
// integrations goes nowhere.
func alertmanager(ctx context.Context, cfg Config, r *Report) error {
	var status struct {
		Config struct {
			Original string `json:"original"`
		} `json:"config"`
	}
	if err := cfg.Alertmanager.GetJSON(ctx, "/api/v2/status", nil, &status); err != nil {
		return err
	}
	conf, err := config.Load(status.Config.Original)
	if err != nil {
		return fmt.Errorf("alertmanager's loaded configuration does not parse: %w", err)
	}
	receivers := map[string]*config.Receiver{}
	for i := range conf.Receivers {
		receivers[conf.Receivers[i].Name] = &conf.Receivers[i]
	}
	root := dispatch.NewRoute(conf.Route, nil)
	bad := map[string]bool{} // one finding per severity
	var severities []string
	seen := map[string]bool{}
	for _, g := range cfg.Set.Groups {
		for _, rule := range g.Rules {
			if rule.Alert == "" {
				continue
			}
			sev := rule.Labels[model.LabelSeverity]
			if !seen[sev] {
				seen[sev] = true
				severities = append(severities, sev)
			}
			if bad[sev] {
				continue
			}
			ls := prommodel.LabelSet{"alertname": prommodel.LabelValue(rule.Alert)}
			for k, v := range rule.Labels {
				ls[prommodel.LabelName(k)] = prommodel.LabelValue(v)
			}
			subject := fmt.Sprintf("severity %q (%s)", sev, rule.Alert)
			for _, route := range root.Match(ls) {
				name := route.RouteOpts.Receiver
				switch {
				case route == root:
					r.find(CheckAlertmanager, subject, "no route matches it: it falls through to the default receiver %q", name)
					bad[sev] = true
				case receivers[name] == nil || !hasIntegration(receivers[name]):
					r.find(CheckAlertmanager, subject, "routed to receiver %q, which has no integration: it notifies no one", name)
					bad[sev] = true
				}
			}
		}
	}
	sort.Strings(severities)
	r.note("alertmanager: checked the routing of severities %v", severities)
	return nil
}

// hasIntegration says whether a receiver has any *_configs.
func hasIntegration(rc *config.Receiver) bool {
	v := reflect.ValueOf(*rc)
	for i := 0; i < v.NumField(); i++ {
		if f := v.Field(i); f.Kind() == reflect.Slice && f.Len() > 0 {
			return true
		}
	}
	return false
}

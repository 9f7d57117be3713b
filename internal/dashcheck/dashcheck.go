//lint:file-ignore SA1019 dashboard v1 types are what file provisioning loads.

// Package dashcheck strictly decodes dashboard JSON with the Grafana
// Foundation SDK's types, registering the SDK's panel and query plugins,
// and lists the series Grafana's queries may read.
// Only tests import it: the plugin registry is heavy, and generation has
// no use for decoding what it just encoded.
package dashcheck

import (
	"errors"
	"sync"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/rules"
)

var registerPlugins sync.Once

// RegisterPlugins registers the SDK's panel and query types, which strict
// decoders of dashboards and alert rules look their models up in.
func RegisterPlugins() { registerPlugins.Do(plugins.RegisterDefaultPlugins) }

// Check strictly decodes dashboard JSON, rejecting unknown and missing
// required fields. The strict decoder of Dashboard (still in SDK v0.0.22)
// returns an empty error list on success, which is normalised to nil here.
func Check(data []byte) error {
	RegisterPlugins()
	var d dashboard.Dashboard
	err := d.UnmarshalJSONStrict(data)
	var be cog.BuildErrors
	if errors.As(err, &be) && len(be) == 0 {
		return nil
	}
	return err
}

// KnownSeries lists the series a query generated for s may read: every
// series of the metric contract (a histogram's bucket, count and sum) and
// every series the rules of s record.
func KnownSeries(s model.Spec) (map[string]bool, error) {
	names := map[string]bool{}
	for i := range s.Services {
		svc := &s.Services[i]
		for _, m := range svc.Metrics {
			names[m.Name] = true
			if m.Type == model.Histogram {
				names[model.BucketSeries(m.Name)], names[model.CountSeries(m.Name)], names[model.SumSeries(m.Name)] = true, true, true
			}
		}
		groups, err := rules.Build(svc, s.Version)
		if err != nil {
			return nil, err
		}
		for _, g := range groups.Groups {
			for _, r := range g.Rules {
				if r.Record != "" {
					names[r.Record] = true
				}
			}
		}
	}
	return names, nil
}

package rules

import (
	"maps"

	"github.com/tensorwasm/obsbundle/internal/rulefmt"

	"github.com/tensorwasm/obsbundle/model"
)

// withTierExtras adds each tier's own labels and annotations to its alert,
// so the routing keys and texts of an imported spec survive. tierAlerts
// builds one alert per tier, in the tiers' order. Validation keeps a tier's
// own names off the identity labels and the links, so only the summary and
// description can be replaced.
func withTierExtras(o model.SLO, alerts []rulefmt.Rule) []rulefmt.Rule {
	for i := range alerts {
		if i >= len(o.Tiers) {
			break
		}
		t := o.Tiers[i]
		if len(t.Labels) > 0 {
			alerts[i].Labels = maps.Clone(alerts[i].Labels)
			maps.Copy(alerts[i].Labels, t.Labels)
		}
		if len(t.Annotations) > 0 {
			alerts[i].Annotations = maps.Clone(alerts[i].Annotations)
			maps.Copy(alerts[i].Annotations, t.Annotations)
		}
	}
	return alerts
}

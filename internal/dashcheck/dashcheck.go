//lint:file-ignore SA1019 dashboard v1 types are what file provisioning loads.

// Package dashcheck strictly decodes dashboard JSON with the Grafana
// Foundation SDK's types, registering the SDK's panel and query plugins.
// Only tests import it: the plugin registry is heavy, and generation has
// no use for decoding what it just encoded.
package dashcheck

import (
	"errors"
	"sync"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

var registerPlugins sync.Once

// Check strictly decodes dashboard JSON, rejecting unknown and missing
// required fields. The strict decoder of Dashboard (still in SDK v0.0.22)
// returns an empty error list on success, which is normalised to nil here.
func Check(data []byte) error {
	registerPlugins.Do(plugins.RegisterDefaultPlugins)
	var d dashboard.Dashboard
	err := d.UnmarshalJSONStrict(data)
	var be cog.BuildErrors
	if errors.As(err, &be) && len(be) == 0 {
		return nil
	}
	return err
}

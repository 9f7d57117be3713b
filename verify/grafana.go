package verify

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/tensorwasm/obsbundle/promapi"
)

// VersionTag is the tag every dashboard of a bundle carries.
func VersionTag(version string) string { return "bundle-" + version }

// grafana checks that each of the bundle's dashboards is provisioned and
// carries the bundle's version tag.
func grafana(ctx context.Context, cfg Config, r *Report) error {
	want := VersionTag(cfg.Set.Version)
	for _, uid := range cfg.Set.Dashboards {
		var got struct {
			Dashboard struct {
				Title string   `json:"title"`
				Tags  []string `json:"tags"`
			} `json:"dashboard"`
		}
		err := cfg.Grafana.GetJSON(ctx, "/api/dashboards/uid/"+url.PathEscape(uid), nil, &got)
		var he *promapi.HTTPError
		if errors.As(err, &he) && he.Status == http.StatusNotFound {
			r.find(CheckGrafana, "dashboard "+uid, "not provisioned in Grafana")
			continue
		}
		if err != nil {
			return err
		}
		if !slices.Contains(got.Dashboard.Tags, want) {
			r.find(CheckGrafana, "dashboard "+uid, "provisioned without the tag %s (tags: %v): Grafana serves another version", want, got.Dashboard.Tags)
		}
	}
	if len(cfg.Set.Dashboards) > 0 {
		r.note("grafana: checked %d dashboards for the tag %s", len(cfg.Set.Dashboards), want)
	}
	return nil
}

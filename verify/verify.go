// Package verify checks a running monitoring stack against a bundle: the
// metric contract against the series Prometheus holds, the rule groups
// Prometheus has loaded against the bundle's, Alertmanager's routing of
// every severity, and Grafana's dashboards.
package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"time"

	"github.com/tensorwasm/obsbundle/promapi"
	"github.com/tensorwasm/obsbundle/ruleset"
)

// Config says what to check against which servers. Alertmanager and
// Grafana are optional.
type Config struct {
	Set                   *ruleset.Set
	Prometheus            *promapi.Client
	Alertmanager, Grafana *promapi.Client
	// Now is when to look (zero: now).
	Now time.Time
}

// Finding is something that does not match.
type Finding struct {
	Check   string `json:"check"`
	Subject string `json:"subject"`
	Message string `json:"message"`
}

func (f Finding) String() string { return fmt.Sprintf("%s: %s: %s", f.Check, f.Subject, f.Message) }

// Report holds the findings and what was seen on the way.
type Report struct {
	Findings []Finding `json:"findings"`
	// Notes are facts that are not findings: series counts, scrape
	// intervals, rules not yet evaluated.
	Notes []string `json:"notes"`
}

func (r *Report) find(check, subject, format string, args ...any) {
	r.Findings = append(r.Findings, Finding{Check: check, Subject: subject, Message: fmt.Sprintf(format, args...)})
}

func (r *Report) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// Check names.
const (
	CheckContract     = "contract"
	CheckScrape       = "scrape-interval"
	CheckRules        = "rules"
	CheckAlertmanager = "alertmanager"
	CheckGrafana      = "grafana"
)

// Run performs every check. An error means a check could not run (a server
// unreachable, a refused request); findings are in the report.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Now.IsZero() {
		cfg.Now = time.Now()
	}
	r := &Report{}
	if err := reach(ctx, cfg, r); err != nil {
		return r, err
	}
	if err := contract(ctx, cfg, r); err != nil {
		return r, err
	}
	if err := ruleDrift(ctx, cfg, r); err != nil {
		return r, err
	}
	if cfg.Alertmanager != nil {
		if err := alertmanager(ctx, cfg, r); err != nil {
			return r, err
		}
	}
	if cfg.Grafana != nil {
		if err := grafana(ctx, cfg, r); err != nil {
			return r, err
		}
	}
	sort.SliceStable(r.Findings, func(i, j int) bool { return r.Findings[i].Check < r.Findings[j].Check })
	return r, nil
}

// Text writes the report for a terminal.
func (r *Report) Text(w io.Writer) {
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  %s\n", n)
	}
	if len(r.Findings) == 0 {
		fmt.Fprintln(w, "no findings: the running stack matches the bundle")
		return
	}
	fmt.Fprintf(w, "%d finding(s):\n", len(r.Findings))
	for _, f := range r.Findings {
		fmt.Fprintf(w, "  %s\n", f)
	}
}

// reach asks each server for its version first, so that an unreachable
// server or refused credentials are reported once, before any check.
func reach(ctx context.Context, cfg Config, r *Report) error {
	var build struct {
		Version string `json:"version"`
	}
	err := cfg.Prometheus.API(ctx, "/api/v1/status/buildinfo", nil, &build)
	var status *promapi.HTTPError
	switch {
	case errors.As(err, &status) && status.Status == http.StatusNotFound:
		// Cortex and Mimir serve Prometheus' query and rules API but not
		// its status pages: reach them with a query instead.
		var v json.RawMessage
		if err := cfg.Prometheus.API(ctx, "/api/v1/query", url.Values{"query": {"vector(1)"}}, &v); err != nil {
			return err
		}
		r.note("a Prometheus-compatible API without build information (Cortex, Mimir) at %s", cfg.Prometheus.URL())
	case err != nil:
		return err
	default:
		r.note("Prometheus %s at %s", build.Version, cfg.Prometheus.URL())
	}
	if cfg.Alertmanager != nil {
		var st struct {
			VersionInfo struct {
				Version string `json:"version"`
			} `json:"versionInfo"`
		}
		if err := cfg.Alertmanager.GetJSON(ctx, "/api/v2/status", nil, &st); err != nil {
			return err
		}
		r.note("Alertmanager %s at %s", st.VersionInfo.Version, cfg.Alertmanager.URL())
	}
	if cfg.Grafana != nil {
		var h struct {
			Version string `json:"version"`
		}
		if err := cfg.Grafana.GetJSON(ctx, "/api/health", nil, &h); err != nil {
			return err
		}
		r.note("Grafana %s at %s", h.Version, cfg.Grafana.URL())
	}
	return nil
}

package verify

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/tensorwasm/obsbundle/internal/rulefmt"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/promapi"
)

// ruleDrift compares the groups Prometheus has loaded with the bundle's:
// every group present once, at the bundle's interval, with the same rules
// in the same order (names, expressions, for, labels, annotations), every
// rule healthy and every group evaluating within its interval.
func ruleDrift(ctx context.Context, cfg Config, r *Report) error {
	groups, err := cfg.Prometheus.Rules(ctx)
	if err != nil {
		return err
	}
	loaded := map[string][]promapi.RuleGroup{}
	for _, g := range groups {
		loaded[g.Name] = append(loaded[g.Name], g)
	}
	unevaluated := 0
	for _, want := range cfg.Set.Groups {
		got := loaded[want.Name]
		switch len(got) {
		case 0:
			r.find(CheckRules, "group "+want.Name, "missing: Prometheus has not loaded this group (is its rule file in rule_files, and was Prometheus reloaded?)")
			continue
		case 1:
		default:
			r.find(CheckRules, "group "+want.Name, "loaded %d times (from %s and %s): one copy would do", len(got), got[0].File, got[1].File)
		}
		unevaluated += compareGroup(r, want, got[0])
	}
	if unevaluated > 0 {
		r.note("%d rules not evaluated yet (health unknown): run verify again after the longest group interval", unevaluated)
	}
	return nil
}

func compareGroup(r *Report, want rulefmt.RuleGroup, got promapi.RuleGroup) int {
	subject := "group " + want.Name
	interval := time.Duration(want.Interval)
	if interval == 0 {
		interval = time.Minute
	}
	if gotIv := time.Duration(got.Interval * float64(time.Second)); gotIv != interval {
		r.find(CheckRules, subject, "evaluated every %s, the bundle says %s", gotIv, interval)
	}
	if et := time.Duration(got.EvaluationTime * float64(time.Second)); et > interval {
		r.find(CheckRules, subject, "one evaluation takes %s, longer than its interval %s: evaluations are being skipped", et.Round(time.Millisecond), interval)
	}
	if len(got.Rules) != len(want.Rules) {
		r.find(CheckRules, subject, "holds %d rules, the bundle's %d", len(got.Rules), len(want.Rules))
	}
	unevaluated := 0
	for i := 0; i < len(want.Rules) && i < len(got.Rules); i++ {
		w, g := want.Rules[i], got.Rules[i]
		name, kind := w.Record, "recording"
		if w.Alert != "" {
			name, kind = w.Alert, "alerting"
		}
		rs := fmt.Sprintf("%s rule %d (%s)", subject, i+1, name)
		if g.Name != name || g.Type != kind {
			r.find(CheckRules, rs, "Prometheus has %s rule %s in its place", g.Type, g.Name)
			continue
		}
		if !sameExpr(w.Expr, g.Query) {
			r.find(CheckRules, rs, "expression differs:\n      bundle:     %s\n      Prometheus: %s", normal(w.Expr), g.Query)
		}
		if kind == "alerting" {
			if d := time.Duration(math.Round(g.Duration)) * time.Second; d != time.Duration(w.For) {
				r.find(CheckRules, rs, "for: %s, the bundle says %s", model.Duration(d), model.Duration(w.For))
			}
			if !labels.Equal(labels.FromMap(g.Annotations), labels.FromMap(w.Annotations)) {
				r.find(CheckRules, rs, "annotations differ: %s, the bundle's %s", labels.FromMap(g.Annotations), labels.FromMap(w.Annotations))
			}
		}
		if !labels.Equal(labels.FromMap(g.Labels), labels.FromMap(w.Labels)) {
			r.find(CheckRules, rs, "labels differ: %s, the bundle's %s", labels.FromMap(g.Labels), labels.FromMap(w.Labels))
		}
		switch g.Health {
		case "ok":
		case "unknown", "":
			unevaluated++
		default:
			r.find(CheckRules, rs, "health %s: %s", g.Health, g.LastError)
		}
	}
	return unevaluated
}

// normal is an expression as Prometheus prints it, so layout and
// parenthesis differences between versions do not count as drift.
func normal(expr string) string {
	e, err := model.ParseExpr(expr)
	if err != nil {
		return expr
	}
	return e.String()
}

func sameExpr(a, b string) bool { return normal(a) == normal(b) }

package diff

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tensorwasm/obsbundle/model"
)

// panel is one dashboard panel: its queries by refId.
type panel struct {
	queries map[string]string
}

// jsonPanel is the part of a Grafana panel a diff reads; rows nest the
// panels they hold when collapsed.
type jsonPanel struct {
	Type, Title string
	Targets     []struct{ RefID, Expr string }
	Panels      []jsonPanel
}

func (b *bundle) readDashboard(data []byte) error {
	var d struct {
		Title  string
		Panels []jsonPanel
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return err
	}
	return b.readPanels(d.Title, d.Panels)
}

func (b *bundle) readPanels(dashboard string, ps []jsonPanel) error {
	for _, p := range ps {
		if err := b.readPanels(dashboard, p.Panels); err != nil {
			return err
		}
		if p.Type == "row" {
			continue
		}
		x := panel{queries: map[string]string{}}
		for i, t := range p.Targets {
			if t.Expr == "" {
				continue
			}
			expr, err := model.ParseExpr(grafanaVariables.Replace(t.Expr))
			if err != nil {
				return fmt.Errorf("panel %q: query %s does not parse: %w", p.Title, t.Expr, err)
			}
			b.reads(expr)
			ref := t.RefID
			if ref == "" {
				ref = fmt.Sprintf("#%d", i+1)
			}
			x.queries[ref] = strings.TrimSpace(t.Expr)
		}
		key := dashboard + ": " + p.Title
		for i := 2; ; i++ {
			if _, taken := b.panels[key]; !taken {
				break
			}
			key = fmt.Sprintf("%s: %s #%d", dashboard, p.Title, i)
		}
		b.panels[key] = x
	}
	return nil
}

// grafanaVariables stand in for the interval values Grafana substitutes,
// so panel queries parse; variables inside label values parse as they are.
var grafanaVariables = strings.NewReplacer("${__rate_interval}", "5m", "$__rate_interval", "5m", "${__range}", "1h", "$__range", "1h", "${__interval}", "1m", "$__interval", "1m")

func (r *Report) panels(old, next *bundle) {
	for _, key := range union(old.panels, next.panels) {
		o, inOld := old.panels[key]
		n, inNew := next.panels[key]
		switch {
		case !inOld:
			r.add(Change{Kind: "panel", What: "added " + key})
		case !inNew:
			r.add(Change{Kind: "panel", What: "removed " + key})
		default:
			for _, ref := range changedKeys(o.queries, n.queries) {
				r.add(Change{Kind: "panel", What: fmt.Sprintf("%s query %s changed", key, ref), Before: show(o.queries, ref), After: show(n.queries, ref)})
			}
		}
	}
}

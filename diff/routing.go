package diff

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"gopkg.in/yaml.v3"

	"github.com/tensorwasm/obsbundle/model"
)

// routing is an Alertmanager configuration as a reviewer compares it:
// receivers by name, routes by their path of matchers from the root, and
// inhibitions, each as canonical JSON.
type routing struct {
	receivers   map[string]string
	routes      map[string]string
	inhibitions map[string]string
	// byName holds the alertname matchers of every route.
	byName []*labels.Matcher
}

func (b *bundle) readRouting(file string, data []byte) error {
	var cfg map[string]any
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		return err
	}
	rt := routing{receivers: map[string]string{}, routes: map[string]string{}, inhibitions: map[string]string{}}
	for _, r := range list(cfg["receivers"]) {
		m, _ := r.(map[string]any)
		rt.receivers[fmt.Sprint(m["name"])] = canonical(r)
	}
	for _, in := range list(cfg["inhibit_rules"]) {
		rt.inhibitions[canonical(in)] = canonical(in)
	}
	if root, ok := cfg["route"].(map[string]any); ok {
		if err := rt.walk("route", root); err != nil {
			return err
		}
	}
	b.routing[file] = rt
	return nil
}

// walk records a route and its children under their matcher paths.
func (rt *routing) walk(path string, route map[string]any) error {
	own := map[string]any{}
	for k, v := range route {
		if k != "routes" {
			own[k] = v
		}
	}
	key := path
	for i := 2; ; i++ {
		if _, taken := rt.routes[key]; !taken {
			break
		}
		key = fmt.Sprintf("%s #%d", path, i)
	}
	rt.routes[key] = canonical(own)
	ms := matchersOf(route)
	for _, m := range ms {
		if strings.HasPrefix(strings.TrimSpace(m), "alertname") {
			parsed, err := model.ParseMatchers(m)
			if err != nil {
				return fmt.Errorf("route %s: matcher %s: %w", key, m, err)
			}
			rt.byName = append(rt.byName, parsed...)
		}
	}
	for _, c := range list(route["routes"]) {
		child, ok := c.(map[string]any)
		if !ok {
			continue
		}
		if err := rt.walk(key+" > "+strings.Join(matchersOf(child), ","), child); err != nil {
			return err
		}
	}
	return nil
}

// matchersOf lists a route's matchers, from `matchers` and the older
// `match` / `match_re` maps, sorted.
func matchersOf(route map[string]any) []string {
	var out []string
	for _, m := range list(route["matchers"]) {
		out = append(out, fmt.Sprint(m))
	}
	for field, op := range map[string]string{"match": "=", "match_re": "=~"} {
		if m, ok := route[field].(map[string]any); ok {
			for k, v := range m {
				out = append(out, fmt.Sprintf("%s%s%q", k, op, fmt.Sprint(v)))
			}
		}
	}
	sort.Strings(out)
	return out
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

// canonical is v as JSON with sorted keys, for comparison and display.
func canonical(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(data)
}

// routesByName says whether a route of the bundle matches an alert name.
func (b *bundle) routesByName(name string) bool {
	for _, rt := range b.routing {
		for _, m := range rt.byName {
			if m.Matches(name) {
				return true
			}
		}
	}
	return false
}

func (r *Report) routing(old, next *bundle) {
	for _, file := range union(old.routing, next.routing) {
		o, n := old.routing[file], next.routing[file]
		r.setChanges("receiver", file, o.receivers, n.receivers)
		r.setChanges("route", file, o.routes, n.routes)
		r.setChanges("inhibition", file, o.inhibitions, n.inhibitions)
	}
}

// setChanges reports entries added, removed or changed between two maps of
// canonical values.
func (r *Report) setChanges(kind, file string, o, n map[string]string) {
	for _, k := range union(o, n) {
		ov, inOld := o[k]
		nv, inNew := n[k]
		switch {
		case !inOld:
			r.add(Change{Kind: kind, What: fmt.Sprintf("%s: added %s", file, k)})
		case !inNew:
			r.add(Change{Kind: kind, What: fmt.Sprintf("%s: removed %s", file, k)})
		case ov != nv:
			r.add(Change{Kind: kind, What: fmt.Sprintf("%s: %s changed", file, k), Before: ov, After: nv})
		}
	}
}

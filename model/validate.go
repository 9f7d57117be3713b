package model

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	prommodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// FieldError is one problem with a spec, located by the path of the field
// (as the YAML spells it, e.g. "services[0].slos[1].objective").
type FieldError struct {
	Path string
	Msg  string
}

func (e *FieldError) Error() string { return e.Path + ": " + e.Msg }

var (
	kebab   = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	sloName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
	// semver is Semantic Versioning 2.0.0's own expression: X.Y.Z, an
	// optional pre-release (-rc.1) and optional build metadata (+build.5).
	semver = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)` +
		`(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?` +
		`(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)
)

// Length limits of names that end up where other systems limit them.
const (
	// maxBundleName and maxVersion: both are Kubernetes label values
	// (app.kubernetes.io/part-of and /version), at most 63 characters.
	maxBundleName = 63
	maxVersion    = 63
	// maxServiceName keeps DashboardUID within Grafana's 40 characters.
	maxServiceName = 40 - len("-service")
	// maxTitle keeps a dashboard folder name well within file systems'
	// 255 bytes per path component.
	maxTitle = 100
)

// CheckVersion says why v cannot be a bundle version, or nil when it can.
// The version names the bundle's directory and labels its series and
// Kubernetes objects.
func CheckVersion(v string) error {
	switch {
	case !semver.MatchString(v):
		return fmt.Errorf("expected a semantic version such as 1.2.0, 1.0.0-rc.1 or 2.0.0+build.5, got %q", v)
	case len(v) > maxVersion:
		return fmt.Errorf("expected at most %d characters (it is a Kubernetes label value), got %d", maxVersion, len(v))
	}
	return nil
}

// CheckTitle says why t cannot be a service title, or nil when it can; an
// import uses it to fall back to the service name.
func CheckTitle(t string) error { return checkTitle(t) }

// checkTitle says why a service title cannot name its dashboard's folder:
// it becomes one directory of the bundle, so it must stay one path
// component that every file system and Grafana accept.
func checkTitle(t string) error {
	switch {
	case t == "":
		return errors.New("expected a title such as \"Inference gateway\"")
	case len(t) > maxTitle:
		return fmt.Errorf("expected at most %d characters, got %d", maxTitle, len(t))
	case strings.TrimSpace(t) != t:
		return fmt.Errorf("expected no leading or trailing spaces, got %q", t)
	case strings.HasPrefix(t, "."):
		return fmt.Errorf("the title names the dashboard's folder: expected it not to start with a dot, got %q", t)
	case strings.ContainsAny(t, `/\:*?"<>|`):
		return fmt.Errorf("the title names the dashboard's folder: expected none of / \\ : * ? \" < > |, got %q", t)
	case !utf8.ValidString(t) || strings.IndexFunc(t, unicode.IsControl) >= 0:
		return fmt.Errorf("expected printable text, got %q", t)
	}
	return nil
}

// validator collects every problem rather than stopping at the first, so one
// run tells the user all that is wrong.
type validator struct{ errs []error }

func (v *validator) addf(path, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

func at(path string, i int, field string) string {
	return fmt.Sprintf("%s[%d].%s", path, i, field)
}

// Validate reports every way s breaks the model's rules, as FieldErrors
// joined into one error (nil when s is sound). Call SetDefaults first.
func (s *Spec) Validate() error {
	v := &validator{}
	if !kebab.MatchString(s.Name) {
		v.addf("name", "expected a lowercase name of letters, digits and dashes, got %q", s.Name)
	} else if len(s.Name) > maxBundleName {
		v.addf("name", "expected at most %d characters (it is a Kubernetes label value), got %d", maxBundleName, len(s.Name))
	}
	if err := CheckVersion(s.Version); err != nil {
		v.addf("version", "%v", err)
	}
	if len(s.Services) == 0 {
		v.addf("services", "expected at least one service")
	}
	names := map[string]bool{}
	for i := range s.Services {
		svc := &s.Services[i]
		p := fmt.Sprintf("services[%d]", i)
		if names[svc.Name] {
			v.addf(p+".name", "duplicate service name %q", svc.Name)
		}
		names[svc.Name] = true
		v.service(p, svc)
	}
	v.severityLabels(s)
	return errors.Join(v.errs...)
}

// severityLabels checks that no value of the severity label marks both
// page and ticket alerts: the routing and the dashboards tell them apart
// by it (Spec.SeverityValues).
func (v *validator) severityLabels(s *Spec) {
	page := map[string]bool{}
	for _, value := range s.SeverityValues(Page) {
		page[value] = true
	}
	for i, svc := range s.Services {
		for j, o := range svc.SLOs {
			for k, t := range o.Tiers {
				if t.Severity == Ticket && page[t.SeverityLabel()] {
					v.addf(at(fmt.Sprintf("services[%d].slos[%d].tiers", i, j), k, "labels."+LabelSeverity),
						"expected a severity value of ticket alerts only, but page alerts carry %q too; routing tells pages from tickets by it", t.SeverityLabel())
				}
			}
		}
	}
}

func (v *validator) service(p string, s *Service) {
	if !kebab.MatchString(s.Name) {
		v.addf(p+".name", "expected a lowercase name of letters, digits and dashes, got %q", s.Name)
	} else if len(s.Name) > maxServiceName {
		v.addf(p+".name", "expected at most %d characters (the dashboard UID %q must fit Grafana's 40), got %d", maxServiceName, DashboardUID(s.Name), len(s.Name))
	}
	if err := checkTitle(s.Title); err != nil {
		v.addf(p+".title", "%v", err)
	}
	if len(s.Metrics) == 0 {
		v.addf(p+".metrics", "expected at least one metric: the contract is what every dashboard panel, SLO and alert reads; "+
			"list the metrics the service exposes, e.g. metrics: [{name: http_requests_total, type: counter, labels: [status]}]")
	}
	for _, k := range slices.Sorted(maps.Keys(s.Selector)) {
		val := s.Selector[k]
		if !prommodel.LegacyValidation.IsValidLabelName(k) {
			v.addf(p+".selector."+k, "expected a Prometheus label name")
		}
		if val == "" {
			v.addf(p+".selector."+k, "expected a non-empty label value")
		}
	}
	if s.EvaluationInterval < Duration(10*time.Second) || s.EvaluationInterval > Duration(time.Minute) || PeriodTile%s.EvaluationInterval != 0 {
		v.addf(p+".evaluationInterval", "expected 10s to 1m dividing %s evenly (15s, 30s, 1m, ...), got %s", PeriodTile, s.EvaluationInterval)
	}
	if s.RouteLabel != "" && !s.hasLabel(s.RouteLabel) {
		v.addf(p+".routeLabel", "expected a label of one of the service's metrics, got %q", s.RouteLabel)
	}
	v.url(p+".runbookBaseURL", s.RunbookBaseURL)
	v.url(p+".grafanaURL", s.GrafanaURL)
	v.metrics(p+".metrics", s.Metrics)

	alerts := map[string]string{} // alert id -> path that defined it
	claim := func(path, id string) {
		if !kebab.MatchString(id) {
			v.addf(path, "expected a kebab-case alert name such as availability-fast-burn, got %q", id)
		} else if prev, ok := alerts[id]; ok {
			v.addf(path, "alert %q is already defined at %s", id, prev)
		}
		alerts[id] = path
	}
	claim(p+".slos", UnmeasuredAlert)
	slos := map[string]bool{}
	for i := range s.SLOs {
		o := &s.SLOs[i]
		op := fmt.Sprintf("%s.slos[%d]", p, i)
		if slos[o.Name] {
			v.addf(op+".name", "duplicate SLO name %q", o.Name)
		}
		slos[o.Name] = true
		v.slo(op, s, o)
		for j, t := range o.Tiers {
			claim(at(op+".tiers", j, "alert"), t.Alert)
		}
	}
	for i := range s.Alerts {
		a := &s.Alerts[i]
		ap := fmt.Sprintf("%s.alerts[%d]", p, i)
		claim(ap+".alert", a.Alert)
		v.threshold(ap, s, a)
	}
	v.alertNames(p, s)
}

// alertNames checks the Prometheus names of the service's alerts. Tiers
// may share one (their slo and tier labels tell them apart), but no tier
// may take the name of an alert that is not a tier: SLOUnmeasured and the
// threshold alerts have no tier label, and the rules, tests and routes
// that pick them by name would pick the tier too.
func (v *validator) alertNames(p string, s *Service) {
	others := map[string]string{AlertName(UnmeasuredAlert): "every SLO's unmeasured alert"}
	for i, a := range s.Alerts {
		others[AlertName(a.Alert)] = fmt.Sprintf("%s.alerts[%d]", p, i)
	}
	for i, o := range s.SLOs {
		for j, t := range o.Tiers {
			tp := at(fmt.Sprintf("%s.slos[%d].tiers", p, i), j, "alertName")
			if t.AlertName != "" && !prommodel.LegacyValidation.IsValidMetricName(t.AlertName) {
				v.addf(tp, "expected a Prometheus alert name (letters, digits, _ and :, not starting with a digit), got %q", t.AlertName)
			}
			if prev, ok := others[t.RuleName()]; ok {
				v.addf(tp, "expected an alert name of tiers only, but %s is also the name of %s", t.RuleName(), prev)
			}
		}
	}
}

func (v *validator) url(path, raw string) {
	u, err := url.Parse(raw)
	if raw == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.addf(path, "expected an absolute http(s) URL, got %q", raw)
	}
}

func (v *validator) metrics(p string, ms []Metric) {
	seen := map[string]bool{}
	for i, m := range ms {
		mp := fmt.Sprintf("%s[%d]", p, i)
		if !prommodel.LegacyValidation.IsValidMetricName(m.Name) {
			v.addf(mp+".name", "expected a Prometheus metric name, got %q", m.Name)
		}
		if seen[m.Name] {
			v.addf(mp+".name", "duplicate metric %q", m.Name)
		}
		seen[m.Name] = true
		switch m.Type {
		case Counter, Gauge, Histogram:
		default:
			v.addf(mp+".type", "expected counter, gauge or histogram, got %q", m.Type)
		}
		for j, l := range slices.Concat(m.Labels, m.OptionalLabels) {
			if !prommodel.LegacyValidation.IsValidLabelName(l) || l == labels.BucketLabel {
				v.addf(fmt.Sprintf("%s.labels[%d]", mp, j), "expected a label name other than le, got %q", l)
			}
		}
		if m.Type == Histogram {
			if len(m.Buckets) == 0 {
				v.addf(mp+".buckets", "a histogram needs its bucket upper bounds")
			}
			for j := 1; j < len(m.Buckets); j++ {
				if m.Buckets[j] <= m.Buckets[j-1] {
					v.addf(fmt.Sprintf("%s.buckets[%d]", mp, j), "bucket bounds must increase, %s follows %s", Decimal(m.Buckets[j]), Decimal(m.Buckets[j-1]))
				}
			}
		} else if len(m.Buckets) > 0 {
			v.addf(mp+".buckets", "only histograms have buckets")
		}
	}
}

func (v *validator) slo(p string, s *Service, o *SLO) {
	if !sloName.MatchString(o.Name) {
		v.addf(p+".name", "expected letters, digits and underscores starting with a letter, got %q", o.Name)
	}
	if !(o.Objective > 0 && o.Objective < 1) {
		v.addf(p+".objective", "expected a ratio strictly between 0 and 1 (0.995 for 99.5%%), got %s", Decimal(o.Objective))
		return // every check below divides by the budget
	}
	if o.Period < Duration(24*time.Hour) {
		v.addf(p+".period", "expected at least 1d, got %s", o.Period)
	} else if o.Period%PeriodTile != 0 {
		v.addf(p+".period", "expected a whole number of hours such as 30d or 28d, got %s", o.Period)
	}
	if o.MinEvents < 0 {
		v.addf(p+".minEvents", "expected zero or more events, got %s", Decimal(o.MinEvents))
	}
	if !(o.FreezeBelow > 0 && o.FreezeBelow < 1) {
		v.addf(p+".freezeBelow", "expected a fraction of budget strictly between 0 and 1, got %s", Decimal(o.FreezeBelow))
	}
	if o.Alerting != RatioAlerting && o.Alerting != BudgetAlerting {
		v.addf(p+".alerting", "expected ratio or budget, got %q", o.Alerting)
	}
	v.sli(p+".sli", s, &o.SLI)
	v.labels(p+".labels", o.Labels)
	tiers := map[string]bool{}
	for i := range o.Tiers {
		t := &o.Tiers[i]
		tp := fmt.Sprintf("%s.tiers[%d]", p, i)
		if !kebab.MatchString(t.Name) {
			v.addf(tp+".name", "expected a short kebab-case tier name such as fast, got %q", t.Name)
		}
		if tiers[t.Name] {
			v.addf(tp+".name", "duplicate tier %q", t.Name)
		}
		tiers[t.Name] = true
		v.tier(tp, s, o, t)
	}
	v.pageLadder(p, o)
}

// pageLadder checks that an SLO's page tiers form a ladder: the slower
// (lower factor) a tier, the longer its windows and its `for`. An SLO's page
// alerts share one incident, and the tier that opens it holds it while a
// faster one waits (package rules); a slower tier that detected sooner than
// a faster one would hold every incident and keep the faster from paging.
func (v *validator) pageLadder(p string, o *SLO) {
	// Pairs in factor order are checked; the relations chain, so that
	// covers every pair.
	var page []int
	for i, t := range o.Tiers {
		if t.Severity == Page && t.Factor > 0 {
			page = append(page, i)
		}
	}
	sort.SliceStable(page, func(a, b int) bool { return o.Tiers[page[a]].Factor > o.Tiers[page[b]].Factor })
	for k := 1; k < len(page); k++ {
		fast, slow := o.Tiers[page[k-1]], o.Tiers[page[k]]
		tp := fmt.Sprintf("%s.tiers[%d]", p, page[k])
		switch {
		case slow.Factor == fast.Factor:
			v.addf(tp+".factor", "expected page tiers of distinct factors, but %s and %s both burn at %sx; merge them or make one a ticket",
				fast.Name, slow.Name, Decimal(slow.Factor))
		case !Laddered(fast, slow):
			v.addf(tp, "expected page tier %s (%sx) to have a long window of at least %s, a short window longer than %s and a for of at least %s, those of the faster page tier %s (%sx), got %s, %s and %s: "+
				"the page tier that fires first holds the incident, so a slower tier that detects sooner would keep the faster one from ever paging",
				slow.Name, Decimal(slow.Factor), fast.Long, fast.Short, fast.For, fast.Name, Decimal(fast.Factor), slow.Long, slow.Short, slow.For)
		}
	}
}

func (v *validator) sli(p string, s *Service, sli *SLI) {
	switch {
	case sli.Events != nil && sli.Latency != nil:
		v.addf(p, "expected exactly one of events or latency, got both")
	case sli.Events != nil:
		e := sli.Events
		m := v.metric(p+".events.metric", s, e.Metric, Counter)
		v.matchers(p+".events.total", s, m, e.Total)
		if e.CountsGood() {
			v.goodEvents(p, s, m, e)
			break
		}
		if e.BadMetric != "" {
			if e.BadMetric == e.Metric {
				v.addf(p+".events.badMetric", "expected another counter than metric %q; to pick failures of one counter, leave badMetric out and set bad", e.Metric)
			}
			v.matchers(p+".events.bad", s, v.metric(p+".events.badMetric", s, e.BadMetric, Counter), e.Bad)
			break
		}
		if strings.TrimSpace(e.Bad) == "" {
			v.addf(p+".events.bad", "expected matchers that pick the bad events, such as status=~\"5..\" (or good with matchers that pick the good ones)")
		}
		v.matchers(p+".events.bad", s, m, e.Bad)
	case sli.Latency != nil:
		l := sli.Latency
		m := v.metric(p+".latency.metric", s, l.Metric, Histogram)
		v.matchers(p+".latency.matchers", s, m, l.Matchers)
		switch {
		case l.Native:
			if !(l.Threshold > 0) || math.IsInf(l.Threshold, 1) {
				v.addf(p+".latency.threshold", "expected a positive latency in seconds, got %s", Decimal(l.Threshold))
			}
		case m != nil && !slices.Contains(m.Buckets, l.Threshold):
			v.addf(p+".latency.threshold", "expected one of %s's bucket bounds %s, got %s (any threshold needs a native histogram: native: true)",
				l.Metric, bounds(m.Buckets), Decimal(l.Threshold))
		}
	default:
		v.addf(p, "expected one of events or latency")
	}
}

func bounds(bs []float64) string {
	s := "["
	for i, b := range bs {
		if i > 0 {
			s += " "
		}
		s += Decimal(b)
	}
	return s + "]"
}

// goodEvents checks an events SLI that names its good events: it names
// no bad ones too (the one would contradict the other), a counter of
// successes is another counter of the contract, and good events of Metric
// itself are picked by at least one matcher, or every event would be good.
func (v *validator) goodEvents(p string, s *Service, m *Metric, e *EventRatio) {
	for _, f := range []struct{ field, value string }{{"bad", e.Bad}, {"badMetric", e.BadMetric}} {
		if strings.TrimSpace(f.value) != "" {
			v.addf(p+".events."+f.field, "expected either bad events (bad, badMetric) or good events (good, goodMetric), got both; "+
				"leave %s out: the bad events are all events less the good ones", f.field)
		}
	}
	if e.GoodMetric != "" {
		if e.GoodMetric == e.Metric {
			v.addf(p+".events.goodMetric", "expected another counter than metric %q; to pick successes of one counter, leave goodMetric out and set good", e.Metric)
		}
		v.matchers(p+".events.good", s, v.metric(p+".events.goodMetric", s, e.GoodMetric, Counter), e.Good)
		return
	}
	if ms, err := ParseMatchers(e.Good); err == nil && len(ms) == 0 {
		v.addf(p+".events.good", "expected matchers that pick the good events, such as status!~\"5..\"")
	}
	v.matchers(p+".events.good", s, m, e.Good)
}

// metric looks a name up in the contract and checks its type.
func (v *validator) metric(path string, s *Service, name string, want MetricType) *Metric {
	m, ok := s.Metric(name)
	if !ok {
		v.addf(path, "expected a %s of the service's metric contract, got %q", want, name)
		return nil
	}
	if m.Type != want {
		v.addf(path, "expected a %s, but the contract declares %q a %s", want, name, m.Type)
		return nil
	}
	return &m
}

// matchers checks that raw parses and only names labels the metric has.
func (v *validator) matchers(path string, s *Service, m *Metric, raw string) {
	ms, err := ParseMatchers(raw)
	if err != nil {
		v.addf(path, "%v", err)
		return
	}
	if m == nil {
		return
	}
	for _, mt := range ms {
		known := slices.Contains(m.Labels, mt.Name) || slices.Contains(m.OptionalLabels, mt.Name)
		if _, sel := s.Selector[mt.Name]; !known && !sel {
			v.addf(path, "label %q is not among %s's labels %v", mt.Name, m.Name, slices.Concat(m.Labels, m.OptionalLabels))
		}
	}
}

// window checks that w tiles into evaluation intervals.
func (v *validator) window(path string, s *Service, w Duration) {
	if w <= 0 {
		v.addf(path, "expected a positive duration such as 5m")
	} else if s.EvaluationInterval > 0 && w%s.EvaluationInterval != 0 {
		v.addf(path, "expected a multiple of the evaluation interval %s, got %s", s.EvaluationInterval, w)
	}
}

func (v *validator) severity(path string, sev Severity) {
	if sev != Page && sev != Ticket {
		v.addf(path, "expected page or ticket, got %q", sev)
	}
}

// labels checks a spec's own labels: Prometheus label names the generator
// does not set itself, with values.
func (v *validator) labels(p string, ls map[string]string) {
	for _, k := range slices.Sorted(maps.Keys(ls)) {
		switch {
		case !prommodel.LegacyValidation.IsValidLabelName(k):
			v.addf(p+"."+k, "expected a Prometheus label name")
		case ReservedLabel(k):
			v.addf(p+"."+k, "the generator sets %q itself; choose another label name", k)
		case ls[k] == "":
			v.addf(p+"."+k, "expected a non-empty label value")
		}
	}
}

// annotations checks a tier's own annotations: names the generator's link
// annotations do not take.
func (v *validator) annotations(p string, as map[string]string) {
	for _, k := range slices.Sorted(maps.Keys(as)) {
		switch {
		case !prommodel.LegacyValidation.IsValidLabelName(k):
			v.addf(p+"."+k, "expected an annotation name of letters, digits and underscores")
		case ReservedAnnotation(k):
			v.addf(p+"."+k, "the generator derives %q from the service's URLs; set runbookBaseURL or grafanaURL instead", k)
		}
	}
}

func (v *validator) tier(p string, s *Service, o *SLO, t *Tier) {
	v.severity(p+".severity", t.Severity)
	// A tier may set its own severity value (SeverityLabel), that routes
	// written for another tool match; the other generated labels stay.
	own := maps.Clone(t.Labels)
	if own[LabelSeverity] != "" {
		delete(own, LabelSeverity)
	}
	v.labels(p+".labels", own)
	v.annotations(p+".annotations", t.Annotations)
	v.window(p+".long", s, t.Long)
	v.window(p+".short", s, t.Short)
	if t.Short >= t.Long {
		v.addf(p+".short", "expected a window shorter than long (%s), got %s", t.Long, t.Short)
	}
	if t.Long >= o.Period {
		v.addf(p+".long", "expected a window shorter than the period %s, got %s", o.Period, t.Long)
	}
	if t.For < 0 {
		v.addf(p+".for", "expected zero or a positive duration")
	}
	if t.Factor <= 0 {
		v.addf(p+".factor", "expected a positive burn factor such as 14.4, got %s", Decimal(t.Factor))
		return
	}
	if budget := o.BudgetRatio(); o.Alerting == RatioAlerting && t.Threshold(budget) >= 1 {
		v.addf(p+".factor", "burn factor %s needs an error ratio of %s (%s x budget %s), which can never be reached, so the alert could never fire; "+
			"set alerting: budget on the SLO to compare bad events with the budget instead, use a factor below %s, or an objective above %s",
			Decimal(t.Factor), Decimal(t.Threshold(budget)), Decimal(t.Factor), Decimal(budget),
			Decimal(1/budget), PercentAbove(1-1/t.Factor))
	}
	if budget := o.BudgetRatio(); o.Alerting == BudgetAlerting && Clean(t.BudgetSpent(o.Period)*budget) >= 1 {
		// The tier fires when the long window's bad events per second
		// exceed factor x budget ratio x the events per second of the
		// history the period holds (at most the period). Its bad events are
		// at most that history's events, so it needs the history longer
		// than factor x budget ratio x long: never, past the period.
		v.addf(p+".factor", "burn factor %s over the long window %s means spending %s of the %s error budget within %s, "+
			"but with a budget ratio of %s a window spends at most %s of it (every event of the period bad, all of them in the window), so the alert could never fire; "+
			"use a factor below %s or a long window shorter than %s",
			Decimal(t.Factor), t.Long, Percent(t.BudgetSpent(o.Period)), o.Period, t.Long, Decimal(budget), Percent(1/budget),
			Decimal(float64(o.Period)/(budget*float64(t.Long))),
			Duration(time.Duration(float64(o.Period)/(t.Factor*budget)).Truncate(time.Second)))
	}
}

func (v *validator) threshold(p string, s *Service, a *ThresholdAlert) {
	v.severity(p+".severity", a.Severity)
	if a.Summary == "" {
		v.addf(p+".summary", "expected one static sentence saying what is wrong")
	}
	if a.For < 0 {
		v.addf(p+".for", "expected zero or a positive duration")
	}
	switch {
	case a.ErrorRatio != nil && a.Quantile != nil:
		v.addf(p, "expected exactly one of errorRatio or quantile, got both")
	case a.ErrorRatio != nil:
		if _, ok := s.SLO(a.ErrorRatio.SLO); !ok {
			v.addf(p+".errorRatio.slo", "expected the name of one of the service's SLOs, got %q", a.ErrorRatio.SLO)
		}
		v.window(p+".errorRatio.window", s, a.ErrorRatio.Window)
		if !(a.Above > 0 && a.Above < 1) {
			v.addf(p+".above", "expected an error ratio strictly between 0 and 1, got %s", Decimal(a.Above))
		}
	case a.Quantile != nil:
		q := a.Quantile
		m := v.metric(p+".quantile.metric", s, q.Metric, Histogram)
		v.matchers(p+".quantile.matchers", s, m, q.Matchers)
		if !(q.Quantile > 0 && q.Quantile < 1) {
			v.addf(p+".quantile.quantile", "expected a quantile strictly between 0 and 1 (0.95 for P95), got %s", Decimal(q.Quantile))
		}
		v.window(p+".quantile.window", s, q.Window)
		if a.Above <= 0 {
			v.addf(p+".above", "expected a positive latency in seconds, got %s", Decimal(a.Above))
		} else if m != nil && len(m.Buckets) > 0 && a.Above >= m.Buckets[len(m.Buckets)-1] {
			// histogram_quantile never returns more than the highest finite
			// bound: the alert could never fire.
			v.addf(p+".above", "expected a latency below %s, the highest bucket bound of %s: a quantile read from the histogram never exceeds it, so the alert could never fire; got %s",
				Decimal(m.Buckets[len(m.Buckets)-1]), m.Name, Decimal(a.Above))
		}
	default:
		v.addf(p, "expected one of errorRatio or quantile")
	}
}

// hasLabel says whether any contract metric has label l.
func (s *Service) hasLabel(l string) bool {
	for _, m := range s.Metrics {
		if slices.Contains(m.Labels, l) || slices.Contains(m.OptionalLabels, l) {
			return true
		}
	}
	return false
}

// Laddered says whether two page tiers of one SLO may share its incident:
// their factors differ, and the slower has windows and a `for` at least as
// long as the faster's (its short window strictly longer).
func Laddered(a, b Tier) bool {
	if a.Factor < b.Factor {
		a, b = b, a
	}
	return a.Factor != b.Factor && b.Long >= a.Long && b.Short > a.Short && b.For >= a.For
}

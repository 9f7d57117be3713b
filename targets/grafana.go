package targets

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/alerting"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/expr"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"

	"github.com/tensorwasm/obsbundle/internal/rulefmt"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/routing"
)

// GrafanaService is one service's part of the Grafana alerting target: the
// service and its alerts as rules.Standalone gives them.
type GrafanaService struct {
	Service *model.Service
	Alerts  rulefmt.RuleGroups
}

// Grafana's file provisioning of alerting resources (apiVersion 1): rule
// groups, contact points and the notification policy tree. The rules,
// queries, receivers and policies inside are the Foundation SDK's alerting
// types, which are those of Grafana's provisioning API; the file format
// moves a rule's folder, group and organisation onto its group and a
// contact point's name onto the contact point holding its receivers, so
// these few wrappers carry them.
type (
	alertingFile struct {
		APIVersion    int              `json:"apiVersion"`
		Groups        []alertRuleGroup `json:"groups"`
		ContactPoints []contactPoint   `json:"contactPoints"`
		Policies      []map[string]any `json:"policies"`
	}
	alertRuleGroup struct {
		OrgID    int64            `json:"orgId"`
		Name     string           `json:"name"`
		Folder   string           `json:"folder"`
		Interval string           `json:"interval"`
		Rules    []map[string]any `json:"rules"`
	}
	contactPoint struct {
		OrgID     int64            `json:"orgId"`
		Name      string           `json:"name"`
		Receivers []map[string]any `json:"receivers"`
	}
)

// Fields of the SDK's types that the file format holds elsewhere.
var (
	ruleHoisted     = []string{"folderUID", "ruleGroup", "orgID"}
	receiverHoisted = []string{"name"}
)

// grafanaOrgID is the organisation everything is provisioned into:
// Grafana's first, and in most installations only, one.
const grafanaOrgID = 1

// GrafanaBaseInterval is the interval Grafana's scheduler ticks at: every
// rule group's interval must be a multiple of it.
const GrafanaBaseInterval = 10 * time.Second

// The reference IDs of a rule's chain: the PromQL query, its last value,
// and the condition on that value.
const (
	queryRef     = "A"
	reduceRef    = "B"
	conditionRef = "C"
)

// queryRange is the time range of the PromQL query, in seconds before the
// evaluation. It is an instant query, which reads at the range's end; the
// windows are inside the PromQL. Grafana's editor defaults to 600.
const queryRange = 600

// exprDatasource is the UID and type of Grafana's server-side expressions.
var exprDatasource = expr.Expr{}.DataqueryType()

// GrafanaAlertingProvisioning renders every alert of a bundle as Grafana-managed alert
// rules, with contact points and a notification policy tree equivalent to
// the production Alertmanager routing (routing.Tree), as one provisioning
// file. Each rule runs its alert's PromQL (rules.Standalone) against the
// Prometheus datasource of the bundle's provisioning, and fires when it
// returns a sample: the query returns the alert's measure, positive
// whenever the condition holds, and nothing otherwise (no data is OK).
func GrafanaAlertingProvisioning(bundle string, services []GrafanaService) ([]byte, error) {
	f := alertingFile{APIVersion: 1, Groups: []alertRuleGroup{}}
	for _, gs := range services {
		svc := gs.Service
		for _, g := range gs.Alerts.Groups {
			interval := time.Duration(g.Interval)
			if interval%GrafanaBaseInterval != 0 {
				return nil, fmt.Errorf("service %s: -target grafana-alerting: its evaluation interval %s is not a multiple of %s, the interval Grafana evaluates alert rules on",
					svc.Name, model.Duration(interval), model.Duration(GrafanaBaseInterval))
			}
			rg := alertRuleGroup{OrgID: grafanaOrgID, Name: g.Name, Folder: svc.Title, Interval: g.Interval.String()}
			for _, r := range g.Rules {
				rule, err := grafanaRule(svc, g.Name, r)
				if err != nil {
					return nil, fmt.Errorf("service %s: Grafana rule %s: %w", svc.Name, r.Alert, err)
				}
				rg.Rules = append(rg.Rules, rule)
			}
			f.Groups = append(f.Groups, rg)
		}
	}
	points, err := contactPoints(bundle)
	if err != nil {
		return nil, err
	}
	f.ContactPoints = points
	spec := model.Spec{Name: bundle}
	for _, gs := range services {
		spec.Services = append(spec.Services, *gs.Service)
	}
	tree, err := policy(routing.Tree(spec, routing.ProductionTimers)).Build()
	if err != nil {
		return nil, fmt.Errorf("notification policy: %w", err)
	}
	root, err := fields(tree)
	if err != nil {
		return nil, err
	}
	root["orgId"] = grafanaOrgID
	f.Policies = []map[string]any{root}
	return document(f)
}

// grafanaRule is alert r of group as a Grafana rule: query A is the
// alert's PromQL, B its value, C fires when B is above 0.
func grafanaRule(svc *model.Service, group string, r rulefmt.Rule) (map[string]any, error) {
	datasource := common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr(model.DatasourceUID)}
	exprRef := common.DataSourceRef{Type: cog.ToPtr(exprDatasource), Uid: cog.ToPtr(exprDatasource)}
	query := prometheus.NewDataqueryBuilder().Datasource(datasource).RefId(queryRef).Expr(escape(r.Expr)).Instant()
	reduce := expr.NewExprBuilder().TypeReduce(expr.NewTypeReduceBuilder().Datasource(exprRef).RefId(reduceRef).
		Expression(queryRef).Reducer(expr.TypeReduceReducerLast))
	threshold := expr.NewExprBuilder().TypeThreshold(expr.NewTypeThresholdBuilder().Datasource(exprRef).RefId(conditionRef).
		Expression(reduceRef).Conditions([]cog.Builder[expr.ExprTypeThresholdConditions]{
		expr.NewExprTypeThresholdConditionsBuilder().Evaluator(expr.NewExprTypeThresholdConditionsEvaluatorBuilder().
			Type(expr.ExprTypeThresholdConditionsEvaluatorTypeGt).Params([]float64{0})),
	}))
	labels := map[string]string{}
	for k, v := range r.Labels {
		labels[k] = escape(v)
	}
	rule, err := alerting.NewRuleBuilder(r.Alert).
		Uid(svc.GrafanaRuleUID(r.Labels[model.LabelSLO], r.Labels[model.LabelTier], r.Alert)).
		OrgID(grafanaOrgID).
		RuleGroup(group).
		Condition(conditionRef).
		WithQuery(alerting.NewQueryBuilder(queryRef).DatasourceUid(model.DatasourceUID).RelativeTimeRange(queryRange, 0).Model(query)).
		WithQuery(alerting.NewQueryBuilder(reduceRef).DatasourceUid(exprDatasource).Model(dataquery{reduce})).
		WithQuery(alerting.NewQueryBuilder(conditionRef).DatasourceUid(exprDatasource).Model(dataquery{threshold})).
		For(r.For.String()).
		Labels(labels).
		Annotations(GrafanaAnnotations(r.Annotations)).
		// Like a Prometheus rule: no sample is no alert, and a failed
		// evaluation leaves the alert as it was.
		NoDataState(alerting.RuleNoDataStateOK).
		ExecErrState(alerting.RuleExecErrStateKeepLast).
		Build()
	if err != nil {
		return nil, err
	}
	return fields(rule, ruleHoisted...)
}

// dataquery lets an expression builder stand where a query model goes.
type dataquery struct{ b *expr.ExprBuilder }

func (d dataquery) Build() (variants.Dataquery, error) { return d.b.Build() }

// escape doubles every $ of a value Grafana expands environment variables
// in ($NAME, ${NAME}; $$ is a $): labels, query models and contact point
// settings, but not annotations. A regular expression's $ in a selector
// would otherwise read as a variable, and vanish.
func escape(s string) string { return strings.ReplaceAll(s, "$", "$$") }

// value is Prometheus' $value in an annotation template.
var value = regexp.MustCompile(`\$value\b`)

// GrafanaAnnotations are a Prometheus alert's annotations for its Grafana
// rule. Grafana's $value is the text of every query and expression of the
// rule; the alert's value is $values.B.Value, which the templates read
// instead. Grafana does not expand variables in annotations.
func GrafanaAnnotations(annotations map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range annotations {
		out[k] = value.ReplaceAllString(v, "$$values."+reduceRef+".Value")
	}
	return out
}

// contactPoints are the receivers of the production Alertmanager routing:
// pages to PagerDuty, tickets to Slack, each reading its secret from
// Grafana's environment.
func contactPoints(bundle string) ([]contactPoint, error) {
	var out []contactPoint
	for _, c := range []struct {
		receiver string
		typ      alerting.ContactPointType
		settings map[string]any
	}{
		{model.PageReceiver, alerting.ContactPointTypePagerduty, map[string]any{"integrationKey": "${" + model.PagerDutyKeyEnv + "}"}},
		{model.TicketReceiver, alerting.ContactPointTypeSlack, map[string]any{"url": "${" + model.SlackURLEnv + "}", "recipient": escape(model.SlackChannel(bundle))}},
	} {
		cp, err := alerting.NewContactPointBuilder().Name(c.receiver).Uid(model.GrafanaContactPointUID(c.receiver)).
			Type(c.typ).Settings(c.settings).DisableResolveMessage(false).Build()
		if err != nil {
			return nil, fmt.Errorf("contact point %s: %w", c.receiver, err)
		}
		receiver, err := fields(cp, receiverHoisted...)
		if err != nil {
			return nil, err
		}
		out = append(out, contactPoint{OrgID: grafanaOrgID, Name: c.receiver, Receivers: []map[string]any{receiver}})
	}
	return out, nil
}

// policy is a route of the routing tree as a Grafana notification policy.
func policy(r routing.Route) *alerting.NotificationPolicyBuilder {
	p := alerting.NewNotificationPolicyBuilder().Receiver(r.Receiver)
	if len(r.Matchers) > 0 {
		var ms alerting.ObjectMatchers
		for _, m := range r.Matchers {
			ms = append(ms, alerting.ObjectMatcher{m.Label, m.Op(), escape(m.Value)})
		}
		p.ObjectMatchers(ms)
	}
	if len(r.GroupBy) > 0 {
		p.GroupBy(r.GroupBy)
	}
	if r.GroupWait != "" {
		p.GroupWait(r.GroupWait)
	}
	if r.GroupInterval != "" {
		p.GroupInterval(r.GroupInterval)
	}
	if r.RepeatInterval != "" {
		p.RepeatInterval(r.RepeatInterval)
	}
	if len(r.Routes) > 0 {
		var routes []cog.Builder[alerting.NotificationPolicy]
		for _, c := range r.Routes {
			routes = append(routes, policy(c))
		}
		p.Routes(routes)
	}
	return p
}

// fields is v's JSON object without the named fields.
func fields(v any, drop ...string) (map[string]any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var out map[string]any
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	for _, k := range drop {
		delete(out, k)
	}
	return out, nil
}

package promapi

import "context"

// RuleGroup is a rule group as /api/v1/rules shows it, on Prometheus and
// on the rulers of Cortex and Mimir alike.
type RuleGroup struct {
	Name           string  `json:"name"`
	File           string  `json:"file"`
	Interval       float64 `json:"interval"` // seconds
	EvaluationTime float64 `json:"evaluationTime"`
	Rules          []Rule  `json:"rules"`
}

// Rule is one rule of a RuleGroup, recording or alerting (Type).
type Rule struct {
	Name           string            `json:"name"`
	Query          string            `json:"query"`
	Duration       float64           `json:"duration"` // an alert's for, in seconds
	Labels         map[string]string `json:"labels"`
	Annotations    map[string]string `json:"annotations"`
	Health         string            `json:"health"` // ok, err or unknown (not evaluated yet)
	LastError      string            `json:"lastError"`
	EvaluationTime float64           `json:"evaluationTime"`
	Type           string            `json:"type"`
}

// Rules returns the rule groups the server has loaded.
func (c *Client) Rules(ctx context.Context) ([]RuleGroup, error) {
	var data struct {
		Groups []RuleGroup `json:"groups"`
	}
	if err := c.API(ctx, "/api/v1/rules", nil, &data); err != nil {
		return nil, err
	}
	return data.Groups, nil
}

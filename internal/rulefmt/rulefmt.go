// Package rulefmt holds the shape of a Prometheus rule file: the same
// types and YAML fields as Prometheus' model/rulefmt, without its loader.
// Prometheus' package validates templates with its template package, which
// links the whole query engine; generation only writes rule files, so it
// uses these types, and the tests load every generated file with
// Prometheus' own loader and promtool.
package rulefmt

import (
	"bytes"
	"errors"
	"fmt"

	prommodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"
)

// RuleGroups is a rule file: a list of groups.
type RuleGroups struct {
	Groups []RuleGroup `yaml:"groups"`
}

// RuleGroup is a named set of rules evaluated together, every Interval.
type RuleGroup struct {
	Name        string              `yaml:"name"`
	Interval    prommodel.Duration  `yaml:"interval,omitempty"`
	QueryOffset *prommodel.Duration `yaml:"query_offset,omitempty"`
	Limit       int                 `yaml:"limit,omitempty"`
	Rules       []Rule              `yaml:"rules"`
	Labels      map[string]string   `yaml:"labels,omitempty"`
}

// Rule is a recording rule (Record) or an alerting rule (Alert).
type Rule struct {
	Record        string             `yaml:"record,omitempty"`
	Alert         string             `yaml:"alert,omitempty"`
	Expr          string             `yaml:"expr"`
	For           prommodel.Duration `yaml:"for,omitempty"`
	KeepFiringFor prommodel.Duration `yaml:"keep_firing_for,omitempty"`
	Labels        map[string]string  `yaml:"labels,omitempty"`
	Annotations   map[string]string  `yaml:"annotations,omitempty"`
}

// Parse reads a rule file strictly (unknown fields are errors): every rule
// must be either a recording or an alerting rule, with an expression
// Prometheus' parser accepts. Templates are not checked here.
func Parse(content []byte) (*RuleGroups, error) {
	var groups RuleGroups
	dec := yaml.NewDecoder(bytes.NewReader(content))
	dec.KnownFields(true)
	if err := dec.Decode(&groups); err != nil {
		return nil, err
	}
	p := parser.NewParser(parser.Options{})
	var errs []error
	for _, g := range groups.Groups {
		if g.Name == "" {
			errs = append(errs, errors.New("a rule group has no name"))
		}
		for i, r := range g.Rules {
			if (r.Record == "") == (r.Alert == "") {
				errs = append(errs, fmt.Errorf("group %s, rule %d: expected exactly one of record and alert", g.Name, i))
			}
			if _, err := p.ParseExpr(r.Expr); err != nil {
				errs = append(errs, fmt.Errorf("group %s, rule %d (%s%s): %w", g.Name, i, r.Record, r.Alert, err))
			}
		}
	}
	return &groups, errors.Join(errs...)
}

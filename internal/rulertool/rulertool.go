// Package rulertool reads a ruler namespace file as cortextool and
// mimirtool do before they send it, group by group, to a Cortex or Mimir
// ruler: the tests send the same bytes, and check they read back.
package rulertool

import "gopkg.in/yaml.v3"

// Group is a rule group as the tools hold it between reading a namespace
// file and sending it: Prometheus' rulefmt nodes, expressions kept as YAML
// nodes. yaml.Marshal of a Group gives the body the tools post (yaml.v3's
// defaults, four-space indent).
type Group struct {
	Name     string `yaml:"name"`
	Interval string `yaml:"interval,omitempty"`
	Rules    []struct {
		Record      yaml.Node         `yaml:"record,omitempty"`
		Alert       yaml.Node         `yaml:"alert,omitempty"`
		Expr        yaml.Node         `yaml:"expr"`
		For         string            `yaml:"for,omitempty"`
		Labels      map[string]string `yaml:"labels,omitempty"`
		Annotations map[string]string `yaml:"annotations,omitempty"`
	} `yaml:"rules"`
}

// Groups reads the groups of a namespace file.
func Groups(content []byte) ([]Group, error) {
	var ns struct {
		Groups []Group `yaml:"groups"`
	}
	err := yaml.Unmarshal(content, &ns)
	return ns.Groups, err
}

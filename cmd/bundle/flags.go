package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// pairs is a repeatable KEY=VALUE flag, e.g. -rule-label release=prom.
type pairs map[string]string

func (p pairs) String() string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(p)) {
		out = append(out, k+"="+p[k])
	}
	return strings.Join(out, ",")
}

func (p pairs) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("expected KEY=VALUE, got %q", s)
	}
	if old, dup := p[k]; dup && old != v {
		return fmt.Errorf("%s given twice (%q and %q)", k, old, v)
	}
	p[k] = v
	return nil
}

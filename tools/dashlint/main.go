// Command dashlint lints Grafana dashboard JSON files with Grafana's
// dashboard-linter and exits 1 if any rule reports a warning or an error
// that the configuration does not exclude. It lives in its own module
// because the linter pins an older Prometheus than the generator uses.
//
//	go -C tools/dashlint run . -config ../../dashboards/lint.yaml FILE...
package main

import (
	"flag"
	"fmt"
	"os"
	"sort"

	"github.com/grafana/dashboard-linter/lint"
)

func main() {
	config := flag.String("config", "", "linter configuration (exclusions with reasons)")
	flag.Parse()
	var dashboards []lint.Dashboard
	for _, f := range flag.Args() {
		buf, err := os.ReadFile(f)
		if err != nil {
			fail(err)
		}
		d, err := lint.NewDashboard(buf)
		if err != nil {
			fail(fmt.Errorf("%s: %w", f, err))
		}
		dashboards = append(dashboards, d)
	}
	cfg := lint.NewConfigurationFile()
	if *config != "" {
		if err := cfg.Load(*config); err != nil {
			fail(err)
		}
	}
	rules := lint.NewRuleSet()
	rs, err := rules.Lint(dashboards)
	if err != nil {
		fail(err)
	}
	rs.Configure(cfg)
	byRule := rs.ByRule()
	names := make([]string, 0, len(byRule))
	for n := range byRule {
		names = append(names, n)
	}
	sort.Strings(names)
	problems, checks := 0, 0
	for _, n := range names {
		for _, rc := range byRule[n] {
			for _, r := range rc.Result.Results {
				checks++
				if r.Severity < lint.Warning {
					continue
				}
				problems++
				where := rc.Dashboard.Title
				if rc.Panel != nil {
					where += " / " + rc.Panel.Title
				}
				fmt.Printf("%s: %s: %s\n", n, where, r.Message)
			}
		}
	}
	fmt.Printf("%d dashboards, %d rules, %d checks, %d problems\n", len(dashboards), len(rules.Rules()), checks, problems)
	if problems > 0 {
		os.Exit(1)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "dashlint:", err)
	os.Exit(2)
}

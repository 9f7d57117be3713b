// Command report prints, for every alert tier of a spec's services, the
// time-to-first-alert report: the analysis from the alerting math beside a
// replay of the bundle's own rules with Prometheus' engine on simulated
// traffic.
//
//	go run ./cmd/report [-spec FILE]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/report"
	"github.com/tensorwasm/obsbundle/rules"
	"github.com/tensorwasm/obsbundle/simulation"
	"github.com/tensorwasm/obsbundle/spec"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("spec", "", "YAML spec `file` (default: the built-in spec)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := printReport(stdout, *file); err != nil {
		fmt.Fprintln(stderr, "report:", err)
		return 1
	}
	return 0
}

// printReport analyses every tier, replays it on simulated traffic and
// prints the report of every service.
func printReport(w io.Writer, file string) error {
	s := catalog.TensorWasm()
	if file != "" {
		var err error
		if s, err = spec.LoadFile(file); err != nil {
			return err
		}
	}
	if err := s.Validate(); err != nil {
		return err
	}
	for i := range s.Services {
		svc := &s.Services[i]
		cells := report.Analyze(svc)
		if len(cells) == 0 {
			continue
		}
		groups, err := rules.Build(svc, s.Version)
		if err != nil {
			return err
		}
		if err := simulation.Simulate(context.Background(), svc, groups, simulation.For(svc), cells); err != nil {
			return err
		}
		if _, err := w.Write(report.Markdown(svc, cells)); err != nil {
			return err
		}
	}
	return nil
}

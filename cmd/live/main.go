// Command live checks a bundle against a running system:
//
//	live backtest -prometheus URL [-bundle PATH] [-compare PATH] [-from T] [-to T] [-out DIR] [-json]
//	live verify   -prometheus URL [-alertmanager URL] [-grafana URL] [-bundle PATH] [-spec FILE] [-json]
//
// backtest replays the bundle's rules over the history Prometheus holds and
// reports every alert it would have raised; verify compares what the
// servers have loaded with the bundle and exits 1 on any finding.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tensorwasm/obsbundle/backtest"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/promapi"
	"github.com/tensorwasm/obsbundle/ruleset"
	"github.com/tensorwasm/obsbundle/verify"
)

// Exit codes.
const (
	exitOK       = 0
	exitFindings = 1 // verify found differences; backtest failed
	exitUsage    = 2
	exitError    = 3 // verify could not run a check
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage:
  live backtest -prometheus URL [flags]   replay the bundle's rules over Prometheus' history
  live verify -prometheus URL [flags]     check the running servers against the bundle
run "live backtest -h" or "live verify -h" for the flags`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "backtest":
		return runBacktest(ctx, args[1:], stdout, stderr)
	case "verify":
		return runVerify(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "live: unknown command %q\n%s\n", args[0], usage)
	return exitUsage
}

// connFlags are the connection options of one server.
type connFlags struct {
	url     string
	opts    promapi.Options
	headers promapi.HeaderFlag
}

func (c *connFlags) register(fs *flag.FlagSet, prefix, what string) {
	fs.StringVar(&c.url, prefix, "", what+" base URL, e.g. http://localhost:9090 (with its path prefix, if any)")
	p := prefix + "-"
	if prefix == "prometheus" {
		p = "" // the Prometheus options are the unprefixed ones
	}
	fs.StringVar(&c.opts.BearerTokenFile, p+"bearer-token-file", "", "file holding a bearer token for "+what)
	fs.StringVar(&c.opts.BasicAuthUser, p+"basic-auth-user", "", "basic-auth user for "+what)
	fs.StringVar(&c.opts.BasicAuthPasswordFile, p+"basic-auth-password-file", "", "file holding the basic-auth password for "+what)
	fs.StringVar(&c.opts.CAFile, p+"ca-file", "", "PEM file of CAs to trust for "+what)
	fs.BoolVar(&c.opts.InsecureSkipVerify, p+"insecure-skip-verify", false, "do not verify "+what+"'s certificate")
	fs.Var(&c.headers, p+"header", `extra header for `+what+`, "Name: value", repeatable (e.g. "X-Scope-OrgID: tenant-1")`)
	fs.DurationVar(&c.opts.Timeout, p+"timeout", time.Minute, "timeout of each request to "+what)
	fs.BoolVar(&c.opts.NoCompression, p+"no-gzip", false, "ask "+what+" for uncompressed responses (faster on the same host or a fast network)")
}

func (c *connFlags) client(what string) (*promapi.Client, error) {
	c.opts.Headers = c.headers.H
	return promapi.New(what, c.url, c.opts)
}

func loadSet(path string) (*ruleset.Set, error) {
	if path == "" {
		return ruleset.Builtin()
	}
	return ruleset.Load(path)
}

func runBacktest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("live backtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var prom connFlags
	prom.register(fs, "prometheus", "Prometheus")
	bundlePath := fs.String("bundle", "", "bundle directory, spec file or rule file to replay (default: the built-in TensorWasm spec)")
	compare := fs.String("compare", "", "second bundle directory, spec or rule file (e.g. a team's Sloth rules) to replay on the same data")
	fromFlag := fs.String("from", "", "start of the range: RFC 3339, a date (2026-11-01) or Unix seconds (default: -to minus the longest SLO period)")
	toFlag := fs.String("to", "", "end of the range (default: now)")
	chunk := fs.Duration("chunk", 2*time.Hour, "history fetched per request")
	window := fs.Duration("window", 24*time.Hour, "history replayed at a time: bounds memory")
	parallel := fs.Int("parallel", 2, "requests in flight at once")
	read := fs.String("read", "query", "how to read the history: query (range vectors over the query API) or remote (remote read, streamed chunks)")
	out := fs.String("out", "", "directory to write backtest.md, backtest.json and one timeline-<service>-<slo>.svg per SLO into")
	asJSON := fs.Bool("json", false, "print the result as JSON instead of the summary")
	quiet := fs.Bool("quiet", false, "no progress indicator on stderr")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "live backtest: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	fail := func(err error) int { fmt.Fprintf(stderr, "live backtest: %v\n", err); return exitFindings }
	if prom.url == "" {
		fmt.Fprintln(stderr, "live backtest: -prometheus URL is required")
		return exitUsage
	}
	client, err := prom.client("Prometheus")
	if err != nil {
		fmt.Fprintf(stderr, "live backtest: %v\n", err)
		return exitUsage
	}
	primary, err := loadSet(*bundlePath)
	if err != nil {
		return fail(err)
	}
	var other *ruleset.Set
	if *compare != "" {
		if other, err = ruleset.Load(*compare); err != nil {
			return fail(err)
		}
	}
	to := time.Now().UTC()
	if *toFlag != "" {
		if to, err = parseTime(*toFlag); err != nil {
			fmt.Fprintf(stderr, "live backtest: -to: %v\n", err)
			return exitUsage
		}
	}
	from := to.Add(-period(primary))
	if *fromFlag != "" {
		if from, err = parseTime(*fromFlag); err != nil {
			fmt.Fprintf(stderr, "live backtest: -from: %v\n", err)
			return exitUsage
		}
	}
	if *read != "query" && *read != "remote" {
		fmt.Fprintf(stderr, "live backtest: -read %q: expected query or remote\n", *read)
		return exitUsage
	}
	cfg := backtest.Config{RemoteRead: *read == "remote", Prometheus: client, Primary: primary, Compare: other, From: from, To: to, Chunk: *chunk, Window: *window, Parallel: *parallel}
	if !*quiet {
		cfg.Progress = stderr
	}
	res, err := backtest.Run(ctx, cfg)
	if err != nil {
		return fail(err)
	}
	if *asJSON {
		if err := res.JSON(stdout); err != nil {
			return fail(err)
		}
	} else {
		res.Text(stdout)
	}
	if *out != "" {
		if err := writeBacktest(*out, res); err != nil {
			return fail(err)
		}
	}
	return exitOK
}

// period is the longest SLO period the set records, or 30d.
func period(s *ruleset.Set) time.Duration {
	longest := time.Duration(0)
	for _, g := range s.Groups {
		for _, r := range g.Rules {
			if w, ok := strings.CutPrefix(r.Record, "slo:sli_error:ratio_rate"); ok {
				if d, err := model.ParseDuration(w); err == nil && d.Std() > longest {
					longest = d.Std()
				}
			}
		}
	}
	if longest == 0 {
		return 30 * 24 * time.Hour
	}
	return longest
}

func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.UTC(), nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return time.UnixMilli(int64(f * 1000)).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q: expected RFC 3339 (2026-11-01T00:00:00Z), a date (2026-11-01) or Unix seconds", s)
}

func writeBacktest(dir string, res *backtest.Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	charts := map[string]string{}
	for _, s := range res.SLOs {
		name := "timeline-" + s.Service + "-" + s.SLO + ".svg"
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		res.SVG(f, s)
		if err := f.Close(); err != nil {
			return err
		}
		charts[s.Key()] = name
	}
	md, err := os.Create(filepath.Join(dir, "backtest.md"))
	if err != nil {
		return err
	}
	res.Markdown(md, charts)
	if err := md.Close(); err != nil {
		return err
	}
	js, err := os.Create(filepath.Join(dir, "backtest.json"))
	if err != nil {
		return err
	}
	if err := res.JSON(js); err != nil {
		js.Close()
		return err
	}
	return js.Close()
}

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("live verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var prom, am, graf connFlags
	prom.register(fs, "prometheus", "Prometheus")
	am.register(fs, "alertmanager", "Alertmanager")
	graf.register(fs, "grafana", "Grafana")
	bundlePath := fs.String("bundle", "", "bundle directory, spec file or rule file to check against (default: the built-in TensorWasm spec)")
	specPath := fs.String("spec", "", "spec whose metric contract to check, when -bundle is a directory")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "live verify: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if prom.url == "" {
		fmt.Fprintln(stderr, "live verify: -prometheus URL is required")
		return exitUsage
	}
	set, err := loadSet(*bundlePath)
	if err != nil {
		fmt.Fprintf(stderr, "live verify: %v\n", err)
		return exitError
	}
	if *specPath != "" {
		withSpec, err := ruleset.Load(*specPath)
		if err != nil || withSpec.Spec == nil {
			fmt.Fprintf(stderr, "live verify: -spec %s: not a spec: %v\n", *specPath, err)
			return exitUsage
		}
		set.Spec = withSpec.Spec
	}
	cfg := verify.Config{Set: set}
	clients := []struct {
		c    *connFlags
		what string
		dst  **promapi.Client
	}{{&prom, "Prometheus", &cfg.Prometheus}, {&am, "Alertmanager", &cfg.Alertmanager}, {&graf, "Grafana", &cfg.Grafana}}
	for _, c := range clients {
		if c.c.url == "" {
			continue
		}
		if *c.dst, err = c.c.client(c.what); err != nil {
			fmt.Fprintf(stderr, "live verify: %v\n", err)
			return exitUsage
		}
	}
	rep, err := verify.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "live verify: %v\n", err)
		return exitError
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	} else {
		fmt.Fprintf(stdout, "verify %s against %s\n", set.Name, prom.url)
		rep.Text(stdout)
	}
	if len(rep.Findings) > 0 {
		return exitFindings
	}
	return exitOK
}

package backtest_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb"

	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/internal/promstack"
	"github.com/tensorwasm/obsbundle/internal/rulefmt"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/rules"
	"github.com/tensorwasm/obsbundle/ruleset"
)

// Shape of the benchmark: TensorWasm's request counter at 10 routes x 3
// methods x 8 statuses x 4 instances = 960 series, scraped every 30s, for
// 30 days (83M samples), the cardinality of the rule cost benchmark.
const (
	benchRoutes, benchMethods, benchStatuses, benchInstances = 10, 3, 8, 4
	benchScrape                                              = 30 * time.Second
	benchDays                                                = 30
)

// BenchmarkBacktestMonth writes 30 days of 960 raw series as a TSDB block,
// starts Debian's Prometheus on it, and runs the backtest command (built
// from cmd/live) against it with the availability SLO's rules, reporting
// its wall time, its CPU time and Prometheus' (the machine's two cores are
// shared by both) and its peak memory (maximum resident set size), reading
// the history over remote read and over the query API. The README's
// Performance section quotes the figures: over remote read, 55 to 75
// CPU-seconds for the command and 15 to 20 for Prometheus, about 830 MiB at
// peak, and 37 to 48 s of wall time on a nearly idle machine (152 s before the
// raw store, memoized parts and split range queries); the wall time
// depends mostly on what else the machine runs. Not part of the test
// suite (it takes minutes): run it with
//
//	go test ./backtest -run '^$' -bench BacktestMonth -benchtime 1x -timeout 30m
//
// BENCH_WINDOW sets the backtest's -window (default 24h).
func BenchmarkBacktestMonth(b *testing.B) {
	dir := b.TempDir()
	end := time.Now().UTC().Truncate(24 * time.Hour)
	start := end.Add(-benchDays * 24 * time.Hour)
	data := filepath.Join(dir, "data")
	began := time.Now()
	samples := writeBlock(b, data, start, end)
	b.Logf("wrote %d samples of %d series in %s", samples, benchSeries(), time.Since(began).Round(time.Second))
	url := promstack.Prometheus(b, dir, data)

	spec := catalog.TensorWasm()
	groups, err := rules.Build(&spec.Services[0], spec.Version)
	if err != nil {
		b.Fatal(err)
	}
	var avail []rulefmt.RuleGroup
	for _, g := range groups.Groups {
		if strings.HasPrefix(g.Name, model.GroupName(spec.Services[0].Name, "availability_http")) {
			avail = append(avail, g)
		}
	}
	out, err := rules.Render(rulefmt.RuleGroups{Groups: avail})
	if err != nil {
		b.Fatal(err)
	}
	ruleFile := filepath.Join(dir, "availability.rules.yaml")
	if err := os.WriteFile(ruleFile, out, 0o644); err != nil {
		b.Fatal(err)
	}
	if _, err := ruleset.Load(ruleFile); err != nil {
		b.Fatal(err)
	}
	bin := filepath.Join(dir, "live")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/live").CombinedOutput(); err != nil {
		b.Fatalf("%v: %s", err, out)
	}
	for _, read := range []string{"remote", "query"} {
		b.Run("read="+read, func(b *testing.B) {
			for b.Loop() {
				window := os.Getenv("BENCH_WINDOW")
				if window == "" {
					window = "24h"
				}
				cmd := exec.Command(bin, "backtest", "-quiet", "-no-gzip", "-read", read, "-window", window, "-prometheus", url, "-bundle", ruleFile,
					"-from", start.Format(time.RFC3339), "-to", end.Format(time.RFC3339), "-out", filepath.Join(dir, "report-"+read))
				cmd.Stderr = os.Stderr
				began := time.Now()
				server := promCPU(b, url)
				summary, err := cmd.Output()
				if err != nil {
					b.Fatalf("%v\n%s", err, summary)
				}
				wall := time.Since(began)
				server = promCPU(b, url) - server
				ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
				b.Logf("%s", summary)
				b.ReportMetric(wall.Seconds(), "wall-s")
				b.ReportMetric((cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds(), "cpu-s")
				b.ReportMetric(server, "prometheus-cpu-s")
				b.ReportMetric(float64(ru.Maxrss)/1024, "maxrss-MiB")
				b.ReportMetric(float64(samples), "samples")
				b.ReportMetric(float64(benchSeries()), "series")
			}
		})
	}
}

// promCPU is the CPU seconds Prometheus at url has used, from its own
// process_cpu_seconds_total.
func promCPU(b *testing.B, url string) float64 {
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "process_cpu_seconds_total "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				b.Fatal(err)
			}
			return f
		}
	}
	b.Fatal("Prometheus reports no process_cpu_seconds_total")
	return 0
}

func benchSeries() int { return benchRoutes * benchMethods * benchStatuses * benchInstances }

// writeBlock writes the month as one TSDB block: counters growing at a
// steady rate per series, 5xx at a hundredth of the rest, with a full
// outage of half an hour on day 10 and a 5% incident of six hours on day 20.
func writeBlock(b testing.TB, dir string, start, end time.Time) int64 {
	w, err := tsdb.NewBlockWriter(slog.New(slog.NewTextHandler(io.Discard, nil)), dir, (32 * 24 * time.Hour).Milliseconds())
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	type series struct {
		l     labels.Labels
		rate  float64
		bad   bool
		value float64
	}
	var all []*series
	for r := range benchRoutes {
		for m := range benchMethods {
			for i := range benchInstances {
				for s := range benchStatuses {
					status := 200 + s*50
					rate := 1.0
					if status >= 500 {
						rate = 0.01
					}
					all = append(all, &series{
						l: labels.FromStrings("__name__", catalog.HTTPRequests, "job", "tensor-wasm",
							"instance", fmt.Sprintf("host-%d:9464", i), "method", fmt.Sprintf("M%d", m),
							"route", fmt.Sprintf("/route-%d", r), "status", fmt.Sprint(status)),
						rate: rate, bad: status >= 500,
					})
				}
			}
		}
	}
	ctx := context.Background()
	app := w.Appender(ctx)
	var n int64
	for t := start; !t.After(end); t = t.Add(benchScrape) {
		since := t.Sub(start)
		errFactor := 1.0
		switch {
		case since >= 10*24*time.Hour && since < 10*24*time.Hour+30*time.Minute:
			errFactor = 1000
		case since >= 20*24*time.Hour && since < 20*24*time.Hour+6*time.Hour:
			errFactor = 6
		}
		for _, s := range all {
			inc := s.rate * benchScrape.Seconds()
			if s.bad {
				inc *= errFactor
			}
			s.value += inc
			if _, err := app.Append(0, s.l, t.UnixMilli(), s.value); err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n%(1<<20) < int64(len(all)) {
			if err := app.Commit(); err != nil {
				b.Fatal(err)
			}
			app = w.Appender(ctx)
		}
	}
	if err := app.Commit(); err != nil {
		b.Fatal(err)
	}
	if _, err := w.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	return n
}

// Package promstack runs real Prometheus and Alertmanager servers for
// tests (Debian's Prometheus 2.42 and Alertmanager 0.25, and the Prometheus
// 3 that tools/prometheus3 builds), on free loopback ports with data
// directories of their own, with a history written beforehand as
// OpenMetrics and imported with promtool.
package promstack

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/internal/debian"
)

// Feed reports the samples scraped at t.
type Feed func(t time.Time, add func(l labels.Labels, v float64))

// WriteOpenMetrics scrapes feed every `scrape` from `from` to `to`
// (inclusive) and writes the samples as OpenMetrics, each series' samples
// together and in time order, as promtool's importer wants. rename, when
// set, maps metric names (to simulate a renamed metric).
func WriteOpenMetrics(path string, from, to time.Time, scrape time.Duration, feed Feed, rename map[string]string) error {
	type series struct {
		l  labels.Labels
		ts []int64
		vs []float64
	}
	by := map[string]*series{}
	for t := from; !t.After(to); t = t.Add(scrape) {
		ms := t.UnixMilli()
		feed(t, func(l labels.Labels, v float64) {
			if to, ok := rename[l.Get("__name__")]; ok {
				l = labels.NewBuilder(l).Set("__name__", to).Labels()
			}
			key := l.String()
			s := by[key]
			if s == nil {
				s = &series{l: l}
				by[key] = s
			}
			s.ts, s.vs = append(s.ts, ms), append(s.vs, v)
		})
	}
	keys := make([]string, 0, len(by))
	for k := range by {
		keys = append(keys, k)
	}
	// Families together: sort by name, then labels.
	sort.Slice(keys, func(i, j int) bool {
		a, b := by[keys[i]].l, by[keys[j]].l
		if a.Get("__name__") != b.Get("__name__") {
			return a.Get("__name__") < b.Get("__name__")
		}
		return keys[i] < keys[j]
	})
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, k := range keys {
		s := by[k]
		name := s.l.Get("__name__")
		var lb strings.Builder
		s.l.Range(func(l labels.Label) {
			if l.Name == "__name__" {
				return
			}
			if lb.Len() > 0 {
				lb.WriteByte(',')
			}
			fmt.Fprintf(&lb, "%s=%q", l.Name, l.Value)
		})
		prefix := name + "{" + lb.String() + "} "
		for i := range s.ts {
			w.WriteString(prefix)
			w.WriteString(strconv.FormatFloat(s.vs[i], 'g', -1, 64))
			w.WriteByte(' ')
			w.WriteString(strconv.FormatFloat(float64(s.ts[i])/1000, 'f', 3, 64))
			w.WriteByte('\n')
		}
	}
	w.WriteString("# EOF\n")
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Import turns an OpenMetrics file into TSDB blocks in dataDir with
// Debian's promtool.
func Import(t testing.TB, openMetrics, dataDir string) {
	t.Helper()
	promtool := debian.Binary(t, "promtool")
	require.NoError(t, os.MkdirAll(dataDir, 0o755))
	out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", openMetrics, dataDir).CombinedOutput()
	require.NoError(t, err, "promtool: %s", tail(out, 2000))
}

// Prometheus starts Debian's Prometheus on dataDir with the rule files (no
// scrape targets) and returns its base URL once it is ready. It is stopped
// when the test ends.
func Prometheus(t testing.TB, dir, dataDir string, ruleFiles ...string) string {
	t.Helper()
	addr := FreeAddr(t)
	conf := "global:\n  evaluation_interval: 1m\nrule_files:\n"
	for _, f := range ruleFiles {
		conf += fmt.Sprintf("  - %q\n", f)
	}
	PrometheusAt(t, dir, addr, dataDir, conf, "--storage.tsdb.retention.time=400d")
	return "http://" + addr
}

// PrometheusAt starts Debian's Prometheus on addr with the configuration
// (written to dir/prometheus.yml) and dataDir, and returns once it is
// ready. Its log is dir/prometheus.log.
func PrometheusAt(t testing.TB, dir, addr, dataDir, config string, args ...string) *Process {
	t.Helper()
	return PrometheusBinaryAt(t, debian.Binary(t, "prometheus"), dir, addr, dataDir, config, args...)
}

// PrometheusBinaryAt is PrometheusAt with the Prometheus binary bin, such
// as Prometheus3's.
func PrometheusBinaryAt(t testing.TB, bin, dir, addr, dataDir, config string, args ...string) *Process {
	t.Helper()
	confPath := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(confPath, []byte(config), 0o644))
	p := Start(t, dir, "prometheus", bin, append([]string{"--config.file=" + confPath, "--storage.tsdb.path=" + dataDir,
		"--web.listen-address=" + addr}, args...)...)
	WaitReady(t, "http://"+addr)
	return p
}

// Alertmanager starts Debian's Alertmanager with the configuration and
// returns its base URL once it is ready.
func Alertmanager(t testing.TB, dir, config string) string {
	t.Helper()
	addr := FreeAddr(t)
	AlertmanagerAt(t, dir, addr, config)
	return "http://" + addr
}

// AlertmanagerAt starts Debian's Alertmanager on addr, without clustering,
// with the configuration (written to dir/alertmanager.yml) and its state in
// dir/am-data, and returns once it is ready.
func AlertmanagerAt(t testing.TB, dir, addr, config string) *Process {
	t.Helper()
	bin := debian.Binary(t, "prometheus-alertmanager")
	confPath := filepath.Join(dir, "alertmanager.yml")
	require.NoError(t, os.WriteFile(confPath, []byte(config), 0o644))
	p := Start(t, dir, "alertmanager", bin, "--config.file="+confPath, "--storage.path="+filepath.Join(dir, "am-data"),
		"--web.listen-address="+addr, "--cluster.listen-address=")
	WaitReady(t, "http://"+addr)
	return p
}

// readyTimeout bounds how long a server may take to answer /-/ready; a
// Prometheus replaying its WAL after a restart takes a few seconds.
const readyTimeout = 60 * time.Second

// WaitReady polls base/-/ready until it answers 200, and fails the test
// after readyTimeout.
func WaitReady(t testing.TB, base string) {
	t.Helper()
	url := base + "/-/ready"
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s not ready after %s", url, readyTimeout)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// stopGrace is how long a stopped process may take to exit before it is
// killed.
const stopGrace = 10 * time.Second

// Process is a server Start runs. Tests inject faults with it: Stop (an
// orderly shutdown), Kill (kill -9: no shutdown work at all) and Restart
// with the same arguments.
type Process struct {
	t       testing.TB
	name    string
	dir     string
	bin     string
	args    []string
	logPath string
	log     *os.File
	cmd     *exec.Cmd
	done    chan struct{}
}

// Start runs a process in dir until the test ends, then stops it by its
// process group; its output goes to dir/name.log, shown if the test fails.
// Running in dir keeps the relative paths a server defaults to (data/,
// ./active-query-tracker) out of the repository.
func Start(t testing.TB, dir, name, bin string, args ...string) *Process {
	t.Helper()
	p := &Process{t: t, name: name, dir: dir, bin: bin, args: args, logPath: filepath.Join(dir, name+".log")}
	logFile, err := os.Create(p.logPath)
	require.NoError(t, err)
	p.log = logFile
	p.start()
	t.Cleanup(func() {
		p.Stop()
		logFile.Close()
		if t.Failed() {
			b, _ := os.ReadFile(p.logPath)
			t.Logf("--- %s log (last 3000 bytes):\n%s", name, tail(b, 3000))
		}
	})
	return p
}

func (p *Process) start() {
	p.t.Helper()
	cmd := exec.Command(p.bin, p.args...)
	cmd.Dir = p.dir
	cmd.Stdout, cmd.Stderr = p.log, p.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(p.t, cmd.Start(), p.name)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	p.cmd, p.done = cmd, done
}

// Stop sends SIGTERM to the process group and waits for the exit, killing
// it after stopGrace. It does nothing if the process is not running.
func (p *Process) Stop() {
	if p.cmd == nil {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopGrace):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
	p.cmd = nil
}

// Kill sends SIGKILL to the process group, as a crash or an OOM kill
// would, and waits for the exit.
func (p *Process) Kill() {
	if p.cmd == nil {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
	p.cmd = nil
}

// Restart starts the stopped process again with the same arguments; its
// output goes on in the same log.
func (p *Process) Restart() {
	p.t.Helper()
	require.Nil(p.t, p.cmd, "%s is still running", p.name)
	fmt.Fprintf(p.log, "--- restarted by the test at %s\n", time.Now().UTC().Format(time.RFC3339))
	p.start()
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

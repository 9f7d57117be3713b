// Package promstack runs Debian's real Prometheus and Alertmanager for
// tests, on free loopback ports with data directories of their own, with a
// history written beforehand as OpenMetrics and imported with promtool.
package promstack

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
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

// FreeAddr returns a free 127.0.0.1 address.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// Prometheus starts Debian's Prometheus on dataDir with the rule files (no
// scrape targets) and returns its base URL once it is ready. It is stopped
// when the test ends.
func Prometheus(t testing.TB, dir, dataDir string, ruleFiles ...string) string {
	t.Helper()
	bin := debian.Binary(t, "prometheus")
	addr := FreeAddr(t)
	conf := "global:\n  evaluation_interval: 1m\nrule_files:\n"
	for _, f := range ruleFiles {
		conf += fmt.Sprintf("  - %q\n", f)
	}
	confPath := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(confPath, []byte(conf), 0o644))
	Start(t, dir, "prometheus", bin, "--config.file="+confPath, "--storage.tsdb.path="+dataDir,
		"--storage.tsdb.retention.time=400d", "--web.listen-address="+addr)
	url := "http://" + addr
	waitReady(t, url+"/-/ready")
	return url
}

// Alertmanager starts Debian's Alertmanager with the configuration and
// returns its base URL once it is ready.
func Alertmanager(t testing.TB, dir, config string) string {
	t.Helper()
	bin := debian.Binary(t, "prometheus-alertmanager")
	addr := FreeAddr(t)
	confPath := filepath.Join(dir, "alertmanager.yml")
	require.NoError(t, os.WriteFile(confPath, []byte(config), 0o644))
	Start(t, dir, "alertmanager", bin, "--config.file="+confPath, "--storage.path="+filepath.Join(dir, "am-data"),
		"--web.listen-address="+addr, "--cluster.listen-address=")
	url := "http://" + addr
	waitReady(t, url+"/-/ready")
	return url
}

func waitReady(t testing.TB, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
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
			t.Fatalf("%s not ready after 60s", url)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Start runs a process until the test ends, then stops it by its process
// group; its output goes to a log file shown if the test fails.
func Start(t testing.TB, dir, name, bin string, args ...string) {
	t.Helper()
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.Create(logPath)
	require.NoError(t, err)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start(), name)
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		logFile.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("--- %s log (last 3000 bytes):\n%s", name, tail(b, 3000))
		}
	})
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

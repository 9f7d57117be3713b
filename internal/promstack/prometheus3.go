package promstack

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Prometheus3Env names the environment variable holding the path of a
// Prometheus 3 server binary, as tools/prometheus3/build.sh prints it.
const Prometheus3Env = "PROMETHEUS3"

// Prometheus3 returns the Prometheus 3 binary that PROMETHEUS3 names. In
// CI (CI set), which builds it (.ci/run), an unset variable fails the test;
// elsewhere the test is skipped. A variable that is set but names no
// working Prometheus 3 fails the test anywhere: it was meant to run.
func Prometheus3(t testing.TB) string {
	t.Helper()
	bin := os.Getenv(Prometheus3Env)
	if bin == "" {
		const build = `export PROMETHEUS3="$(tools/prometheus3/build.sh)"`
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set; .ci/run sets it with %s", Prometheus3Env, build)
		}
		t.Skipf("%s is not set: no Prometheus 3 to run (build one with %s)", Prometheus3Env, build)
	}
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s=%s: %v: %s", Prometheus3Env, bin, err, tail(out, 500))
	}
	if !strings.HasPrefix(string(out), "prometheus, version 3.") {
		t.Fatalf("%s=%s is not a Prometheus 3 server: %s", Prometheus3Env, bin, tail(out, 200))
	}
	return bin
}

// Package debian finds the Debian-packaged Prometheus tools the tests run
// for real: promtool, amtool, prometheus and prometheus-alertmanager.
package debian

import (
	"os"
	"os/exec"
	"testing"
)

// Binary returns the path of a Debian binary. In CI, which installs them
// (.ci/run), a missing one fails the test; elsewhere the test is skipped.
func Binary(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed; .ci/run installs Debian's prometheus and prometheus-alertmanager", name)
		}
		t.Skipf("%s not installed (apt-get install prometheus prometheus-alertmanager)", name)
	}
	return path
}

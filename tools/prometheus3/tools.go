//go:build tools

// Package prometheus3 pins the Prometheus 3 server that the end-to-end
// tests run beside Debian's Prometheus 2.42. It lives in its own module so
// that the server's dependency tree never enters the generator's; build.sh
// builds the binary once per version into a cache outside the clone.
package prometheus3

import _ "github.com/prometheus/prometheus/cmd/prometheus"

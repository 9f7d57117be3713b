package promstack

import (
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// lowestPort is the bottom of the range FreeAddr draws from: above the
// well-known and registered ports servers on a developer machine tend to
// hold.
const lowestPort = 10000

// handedOut holds the ports FreeAddr returned in this process, so two
// servers of one test binary never get the same port.
var handedOut sync.Map

// FreeAddr returns a 127.0.0.1 address nothing listens on, for a server the
// test starts next. The port lies below the kernel's ephemeral range: a
// port the kernel picks for ":0" is one it also gives the local end of
// outgoing connections, and a process that dials a lot (Cortex opens
// hundreds of gRPC connections) can take it before the server binds it.
func FreeAddr(t testing.TB) string {
	t.Helper()
	top := ephemeralLow()
	if top-lowestPort < 1000 {
		return kernelAddr(t)
	}
	for range 1000 {
		port := lowestPort + rand.IntN(top-lowestPort)
		if _, taken := handedOut.LoadOrStore(port, true); taken {
			continue
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if l, err := net.Listen("tcp", addr); err == nil {
			l.Close()
			return addr
		}
	}
	t.Fatalf("no free port in [%d, %d)", lowestPort, top)
	return ""
}

// ephemeralLow is the first port of the kernel's ephemeral range, 32768 if
// it cannot be read.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 32768
	}
	low, err := strconv.Atoi(f[0])
	if err != nil {
		return 32768
	}
	return low
}

// kernelAddr is a port the kernel picks, for machines whose ephemeral
// range leaves no room below it.
func kernelAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

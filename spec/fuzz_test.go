package spec_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/tensorwasm/obsbundle/bundle"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/spec"
)

// FuzzLoadAndBuild feeds arbitrary bytes to the spec reader (this project's
// YAML, Sloth and OpenSLO) and every spec it accepts to bundle.Build. Any
// input must either be refused with an error or load, validate and build;
// a panic anywhere is a failure.
//
// Seeds are the example and test specs. Run it for longer with
//
//	go test -run '^$' -fuzz FuzzLoadAndBuild -fuzztime 5m -parallel 1 ./spec/
//
// Crashing inputs land in testdata/fuzz/FuzzLoadAndBuild and replay as
// part of the ordinary `go test ./spec/` (testdata/fuzz/NOTES.md says what
// each one found).
//
// To keep searching while a known panic is unfixed, name functions on its
// stack in FUZZ_KNOWN_PANICS (comma-separated, e.g.
// "dashboards.anchor,bundle.panelLinks"): panics through them are skipped,
// and only then. Without it every panic fails.
func FuzzLoadAndBuild(f *testing.F) {
	var known []string
	if k := os.Getenv("FUZZ_KNOWN_PANICS"); k != "" {
		known = strings.Split(k, ",")
	}
	var seeds []string
	for _, pattern := range []string{"../examples/*.yaml", "../examples/import/*.yaml", "testdata/*.yaml", "testdata/import/*.yaml"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, files...)
	}
	if len(seeds) < 4 {
		f.Fatalf("expected the example and testdata specs as seeds, found %v", seeds)
	}
	for _, file := range seeds {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := call(func() (model.Spec, error) { return spec.Parse("fuzz.yaml", data) })
		if err != nil {
			if _, ok := err.(panicked); ok {
				t.Fatalf("spec.Parse panicked: %v\ninput:\n%s", err, data)
			}
			return // refused with an error: fine
		}
		_, err = call(func() (*bundle.Bundle, error) { return bundle.Build(s) })
		if p, ok := err.(panicked); ok {
			for _, k := range known {
				if strings.Contains(string(p.stack), k+"(") {
					t.Skipf("known panic in %s", k)
				}
			}
			t.Fatalf("bundle.Build panicked on a spec that loaded and validated: %v\ninput:\n%s", err, data)
		}
		// Build may refuse a valid spec with an error; that is a finding of
		// the property test (bundle/property_test.go), not a crash.
	})
}

// panicked is a recovered panic, with the stack where it happened.
type panicked struct {
	value any
	stack []byte
}

func (p panicked) Error() string { return fmt.Sprintf("panic: %v\n%s", p.value, p.stack) }

// call runs fn and turns a panic into a panicked error.
func call[T any](fn func() (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicked{value: r, stack: debug.Stack()}
		}
	}()
	return fn()
}

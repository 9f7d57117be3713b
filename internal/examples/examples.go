// Package examples gives tests the specs every output is checked against:
// TensorWasm's built-in spec, the inference-gateway example and the
// three-service model-platform example.
package examples

import (
	"path/filepath"
	"runtime"
	"testing"

	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/spec"
)

// file is the path of an example spec in the repository's examples/.
func file(name string) string {
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(here), "..", "..", "examples", name)
}

func load(t testing.TB, path string) model.Spec {
	t.Helper()
	s, err := spec.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// GatewayFile is the path of the inference-gateway example spec.
func GatewayFile() string { return file("inference-gateway.yaml") }

// Gateway loads the inference-gateway example spec.
func Gateway(t testing.TB) model.Spec { t.Helper(); return load(t, GatewayFile()) }

// PlatformFile is the path of the model-platform example spec: three
// services at evaluation intervals of 10s, 30s and 1m, both alerting
// modes, event and latency SLIs, and both kinds of threshold alert.
func PlatformFile() string { return file("model-platform.yaml") }

// Platform loads the model-platform example spec.
func Platform(t testing.TB) model.Spec { t.Helper(); return load(t, PlatformFile()) }

// Specs returns by name the example specs whose bundles the golden and
// contract tests pin.
func Specs(t testing.TB) map[string]model.Spec {
	t.Helper()
	return map[string]model.Spec{"tensor-wasm": catalog.TensorWasm(), "inference-gateway": Gateway(t), "model-platform": Platform(t)}
}

// Pair is one spec holding both TensorWasm and the inference gateway: a
// bundle of two services, each with its own SLOUnmeasured.
func Pair(t testing.TB) model.Spec {
	t.Helper()
	s := catalog.TensorWasm()
	s.Name = "pair"
	s.Services = append(s.Services, Gateway(t).Services...)
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	return s
}

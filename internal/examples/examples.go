// Package examples gives tests the specs every output is checked against:
// TensorWasm's built-in spec and the inference-gateway example.
package examples

import (
	"path/filepath"
	"runtime"
	"testing"

	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/spec"
)

// GatewayFile is the path of the inference-gateway example spec.
func GatewayFile() string {
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(here), "..", "..", "examples", "inference-gateway.yaml")
}

// Gateway loads the inference-gateway example spec.
func Gateway(t testing.TB) model.Spec {
	t.Helper()
	s, err := spec.LoadFile(GatewayFile())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Specs returns both specs by name.
func Specs(t testing.TB) map[string]model.Spec {
	t.Helper()
	return map[string]model.Spec{"tensor-wasm": catalog.TensorWasm(), "inference-gateway": Gateway(t)}
}

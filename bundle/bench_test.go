package bundle_test

import (
	"testing"

	"github.com/tensorwasm/obsbundle/bundle"
	"github.com/tensorwasm/obsbundle/catalog"
)

// BenchmarkBuildTensorWasm measures generating TensorWasm's whole bundle in
// process, validation and the rulefmt re-parse included.
func BenchmarkBuildTensorWasm(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		s := catalog.TensorWasm()
		if err := s.Validate(); err != nil {
			b.Fatal(err)
		}
		if _, err := bundle.Build(s); err != nil {
			b.Fatal(err)
		}
	}
}

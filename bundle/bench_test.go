package bundle_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/tensorwasm/obsbundle/bundle"
	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/model"
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

// BenchmarkBuildServices measures a bundle of n copies of TensorWasm's
// service (three SLOs each), to show the cost grows linearly with the
// number of services:
//
//	go test ./bundle -run '^$' -bench BuildServices -benchtime 1x -cpu 1
func BenchmarkBuildServices(b *testing.B) {
	for _, n := range []int{100, 1000, 5000} {
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			s := manyServices(n)
			if err := s.Validate(); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bundle.Build(s); err != nil {
					b.Fatal(err)
				}
			}
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			b.ReportMetric(float64(m.HeapSys)/(1<<20), "MiB-heap-reserved")
		})
	}
}

// manyServices is a spec of n services shaped like TensorWasm's, each with
// its own name, title and job.
func manyServices(n int) model.Spec {
	s := catalog.TensorWasm()
	base := s.Services[0]
	s.Services = make([]model.Service, n)
	for i := range s.Services {
		svc := base
		svc.Name = fmt.Sprintf("svc-%05d", i)
		svc.Title = fmt.Sprintf("Service %05d", i)
		svc.Selector = map[string]string{"job": svc.Name}
		s.Services[i] = svc
	}
	return s
}

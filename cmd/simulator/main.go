// Command simulator serves a simulated TensorWasm for the demo stack: its
// metrics on /metrics, incidents started and stopped over HTTP, and the
// webhooks the demo Alertmanager notifies.
//
//	curl -X POST 'localhost:9464/incidents?error_ratio=1&duration=15m'
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/grafana/dskit/services"

	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/sim"
	"github.com/tensorwasm/obsbundle/simserver"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:9464", "address to serve on")
	var tr traffic
	flag.Float64Var(&tr.rps, "rps", 20, "requests per second at the daily peak")
	flag.Float64Var(&tr.swing, "swing", 10, "ratio of the daily peak to the nightly trough (1: constant traffic)")
	flag.Float64Var(&tr.errorRatio, "error-ratio", 0.001, "baseline fraction of failing requests, outside incidents")
	flag.Uint64Var(&tr.seed, "seed", 1, "seed of the Poisson noise on request and error counts (0: exact counts)")
	flag.BoolVar(&tr.native, "native-histograms", false,
		"also expose the request latency histogram as a native histogram (schema 3, as client_golang's bucket factor 1.1 gives), in the protobuf format to scrapers that ask for it")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := tr.validate(); err != nil {
		fmt.Fprintln(os.Stderr, "simulator:", err)
		os.Exit(2)
	}
	if err := run(*listen, tr, log); err != nil {
		log.Error("simulator failed", "err", err)
		os.Exit(1)
	}
}

// traffic is what the simulated service serves outside incidents. Tests
// of alert noise set a constant rate and a baseline error ratio, and keep
// the Poisson noise on, as a real service's counts have it.
type traffic struct {
	rps, swing, errorRatio float64
	seed                   uint64
	native                 bool
}

func (tr traffic) validate() error {
	switch {
	case tr.rps <= 0:
		return fmt.Errorf("-rps: expected a positive rate, got %g", tr.rps)
	case tr.swing < 1:
		return fmt.Errorf("-swing: expected 1 (constant) or more, got %g", tr.swing)
	case tr.errorRatio < 0 || tr.errorRatio > 1:
		return fmt.Errorf("-error-ratio: expected a ratio from 0 to 1, got %g", tr.errorRatio)
	}
	return nil
}

// run serves until SIGINT or SIGTERM, as a dskit service so startup,
// serving and shutdown each have one place.
func run(listen string, tr traffic, log *slog.Logger) error {
	spec := catalog.TensorWasm()
	scenario := catalog.Simulation(time.Now(), sim.Diurnal(tr.rps, tr.swing))
	scenario.HTTP.ErrorRatio = func(time.Duration) float64 { return tr.errorRatio }
	scenario.HTTP.Seed = tr.seed
	scenario.HTTP.Native = tr.native
	srv := &http.Server{Handler: simserver.New(scenario, spec.Services[0].Metrics, time.Now, log).Handler(), ReadHeaderTimeout: 10 * time.Second}
	var ln net.Listener
	svc := services.NewBasicService(
		func(context.Context) (err error) {
			ln, err = net.Listen("tcp", listen)
			return err
		},
		func(ctx context.Context) error {
			log.Info("serving", "addr", ln.Addr().String())
			errc := make(chan error, 1)
			go func() { errc <- srv.Serve(ln) }()
			select {
			case <-ctx.Done():
				return nil
			case err := <-errc:
				return err
			}
		},
		func(error) error {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return srv.Shutdown(ctx)
		},
	)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := services.StartAndAwaitRunning(ctx, svc); err != nil {
		return fmt.Errorf("starting: %w", err)
	}
	<-ctx.Done()
	svc.StopAsync()
	err := svc.AwaitTerminated(context.Background())
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

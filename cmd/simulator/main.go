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
	rps := flag.Float64("rps", 20, "requests per second at the daily peak")
	seed := flag.Uint64("seed", 1, "seed of the request-count noise (0: exact counts)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(*listen, *rps, *seed, log); err != nil {
		log.Error("simulator failed", "err", err)
		os.Exit(1)
	}
}

// run serves until SIGINT or SIGTERM, as a dskit service so startup,
// serving and shutdown each have one place.
func run(listen string, rps float64, seed uint64, log *slog.Logger) error {
	spec := catalog.TensorWasm()
	scenario := catalog.Simulation(time.Now(), sim.Diurnal(rps, 10))
	scenario.HTTP.ErrorRatio = func(time.Duration) float64 { return 0.001 }
	scenario.HTTP.Seed = seed
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

// Package simserver serves a simulated TensorWasm over HTTP, for the demo
// stack: its metric contract on /metrics, a control to start and stop
// incidents, and webhook receivers that record what Alertmanager sends.
package simserver

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/sim"
)

// Server is the simulated service and what its receivers were sent.
type Server struct {
	mu       sync.Mutex
	start    time.Time
	now      func() time.Time
	scenario *sim.Scenario
	contract []model.Metric
	receiver *Receiver
	log      *slog.Logger
}

// New simulates scenario from now on; contract names the metric families.
func New(scenario *sim.Scenario, contract []model.Metric, now func() time.Time, log *slog.Logger) *Server {
	s := &Server{start: now(), now: now, scenario: scenario, contract: contract, receiver: NewReceiver(now, log), log: log}
	scenario.Scrape(s.start, func(labels.Labels, float64) {}) // traffic counts from now, not from the first scrape
	return s
}

// Handler routes the server's endpoints.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", s.metrics)
	mux.HandleFunc("GET /incidents", s.listIncidents)
	mux.HandleFunc("POST /incidents", s.startIncident)
	mux.HandleFunc("DELETE /incidents", s.endIncidents)
	s.receiver.register(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	return mux
}

// metrics serves the contract as scraped now. The job and instance labels
// are left to the scraper, which attaches its own. A scenario that keeps
// native histograms serves them in the protobuf format to a scraper that
// asks for it (Prometheus with scrape_native_histograms); everyone else gets
// the text format, without them.
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	var samples []sample
	var natives []nativeHistogram
	b := labels.NewBuilder(labels.EmptyLabels())
	s.scenario.Scrape(s.now(), func(l labels.Labels, v float64) {
		b.Reset(l)
		b.Del("job", "instance")
		samples = append(samples, sample{b.Labels(), v})
	})
	s.scenario.NativeHistograms(func(l labels.Labels, h *histogram.FloatHistogram) {
		b.Reset(l)
		b.Del("job", "instance")
		natives = append(natives, nativeHistogram{b.Labels(), h})
	})
	s.mu.Unlock()
	if format := expfmt.NegotiateAccept(r.Header, expfmt.NewFormat(expfmt.TypeProtoDelim), expfmt.NewFormat(expfmt.TypeTextPlain)); len(natives) > 0 && format.FormatType() == expfmt.TypeProtoDelim {
		w.Header().Set("Content-Type", string(format))
		if err := writeProtobuf(w, s.contract, samples, natives); err != nil {
			s.log.Warn("writing metrics", "err", err)
		}
		return
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	if err := writeText(w, s.contract, samples); err != nil {
		s.log.Warn("writing metrics", "err", err)
	}
}

// incidentView is an incident as the control shows it.
type incidentView struct {
	Start          time.Time `json:"start"`
	End            time.Time `json:"end"`
	ErrorRatio     float64   `json:"error_ratio"`
	SlowRatio      float64   `json:"slow_ratio"`
	LatencyFactor  float64   `json:"latency_factor"`
	SnapshotFactor float64   `json:"snapshot_factor"`
	Routes         []string  `json:"routes"`
}

func (s *Server) view(in sim.Incident) incidentView {
	return incidentView{Start: s.start.Add(in.Start), End: s.start.Add(in.Start + in.Duration), ErrorRatio: in.ErrorRatio,
		SlowRatio: in.SlowRatio, LatencyFactor: in.LatencyFactor, SnapshotFactor: in.SnapshotFactor, Routes: in.Routes}
}

func (s *Server) listIncidents(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	views := []incidentView{}
	for _, in := range s.scenario.Incidents() {
		views = append(views, s.view(in))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, views)
}

// Bounds on what the incident control accepts, so that a stray client
// cannot make the simulator's memory or its per-scrape work grow without end.
const (
	maxIncidents        = 100
	maxIncidentDuration = 24 * time.Hour
)

// startIncident starts an incident now, from query parameters:
// error_ratio, slow_ratio, latency_factor, snapshot_factor (numbers),
// duration (default 15m) and route (repeatable).
func (s *Server) startIncident(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	in := sim.Incident{Duration: 15 * time.Minute, Routes: q["route"]}
	for name, dst := range map[string]*float64{
		"error_ratio": &in.ErrorRatio, "slow_ratio": &in.SlowRatio, "latency_factor": &in.LatencyFactor, "snapshot_factor": &in.SnapshotFactor,
	} {
		if v := q.Get(name); v != "" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || (f > 1 && (name == "error_ratio" || name == "slow_ratio")) {
				http.Error(w, fmt.Sprintf("%s: expected a number (a ratio from 0 to 1 for ratios), got %q", name, v), http.StatusBadRequest)
				return
			}
			*dst = f
		}
	}
	if v := q.Get("duration"); v != "" {
		d, err := model.ParseDuration(v)
		if err != nil || d <= 0 || d.Std() > maxIncidentDuration {
			http.Error(w, fmt.Sprintf("duration: expected a duration such as 10m, at most %s, got %q", model.Duration(maxIncidentDuration), v), http.StatusBadRequest)
			return
		}
		in.Duration = d.Std()
	}
	s.mu.Lock()
	if len(s.scenario.Incidents()) >= maxIncidents {
		s.mu.Unlock()
		http.Error(w, fmt.Sprintf("the simulator keeps at most %d incidents; restart it to start afresh", maxIncidents), http.StatusTooManyRequests)
		return
	}
	in.Start = s.now().Sub(s.start)
	s.scenario.AddIncident(in)
	v := s.view(in)
	s.mu.Unlock()
	s.log.Info("incident started", "error_ratio", in.ErrorRatio, "slow_ratio", in.SlowRatio, "latency_factor", in.LatencyFactor,
		"snapshot_factor", in.SnapshotFactor, "until", v.End.Format(time.RFC3339))
	writeJSON(w, http.StatusCreated, v)
}

func (s *Server) endIncidents(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	s.scenario.EndIncidents(s.now().Sub(s.start))
	s.mu.Unlock()
	s.log.Info("incidents ended")
	w.WriteHeader(http.StatusNoContent)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

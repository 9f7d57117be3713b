package simserver

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tensorwasm/obsbundle/model"
)

// maxNotifications bounds the notifications kept in memory.
const maxNotifications = 1000

// Notification is one webhook call from Alertmanager.
type Notification struct {
	Receiver string    `json:"receiver"`
	At       time.Time `json:"at"`
	Status   string    `json:"status"`
	// GroupKey identifies the aggregation group that sent it: a repeated
	// notification of the same incident carries the same key, which is what
	// PagerDuty and its like deduplicate on.
	GroupKey    string            `json:"groupKey"`
	GroupLabels map[string]string `json:"groupLabels"`
	Alerts      []WebhookAlert    `json:"alerts"`
}

// WebhookAlert is an alert as Alertmanager's webhook sends it.
type WebhookAlert struct {
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
	Fingerprint string            `json:"fingerprint"`
}

// Receiver records what Alertmanager's webhooks send. It stands apart from
// the simulated service so that a test can stop and restart the service
// (a dead target, a counter reset) and keep the record of notifications.
type Receiver struct {
	mu            sync.Mutex
	now           func() time.Time
	log           *slog.Logger
	notifications []Notification
}

// NewReceiver records notifications, stamped with now.
func NewReceiver(now func() time.Time, log *slog.Logger) *Receiver {
	return &Receiver{now: now, log: log}
}

// Handler serves the webhooks (POST WebhookPath + receiver) and the record
// of what they got (GET WebhookPath without its slash).
func (rc *Receiver) Handler() http.Handler {
	mux := http.NewServeMux()
	rc.register(mux)
	return mux
}

func (rc *Receiver) register(mux *http.ServeMux) {
	mux.HandleFunc("POST "+model.WebhookPath+"{receiver}", rc.receive)
	mux.HandleFunc("GET "+strings.TrimSuffix(model.WebhookPath, "/"), rc.list)
}

// Notifications returns a copy of what was received, oldest first.
func (rc *Receiver) Notifications() []Notification {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]Notification{}, rc.notifications...)
}

// receive records an Alertmanager webhook notification.
func (rc *Receiver) receive(w http.ResponseWriter, r *http.Request) {
	var n Notification
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&n); err != nil {
		http.Error(w, "expected an Alertmanager webhook payload: "+err.Error(), http.StatusBadRequest)
		return
	}
	n.Receiver, n.At = r.PathValue("receiver"), rc.now()
	for _, a := range n.Alerts {
		rc.log.Info("notification", "receiver", n.Receiver, "status", a.Status, "alertname", a.Labels["alertname"],
			"severity", a.Labels[model.LabelSeverity], "slo", a.Labels[model.LabelSLO])
	}
	rc.mu.Lock()
	rc.notifications = append(rc.notifications, n)
	if len(rc.notifications) > maxNotifications {
		rc.notifications = rc.notifications[len(rc.notifications)-maxNotifications:]
	}
	rc.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (rc *Receiver) list(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, rc.Notifications())
}

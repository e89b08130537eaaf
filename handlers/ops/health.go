package ops

import (
	"context"
	"database/sql"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/ajrly/ajrly-auth/handlers/web"
)

// pinger is what the readiness check needs from storage.
type pinger interface {
	Ping(ctx context.Context) error
}

// Health serves the liveness and readiness checks and the metrics.
type Health struct {
	Store   pinger
	Metrics *Metrics
}

// Mount registers /health/alive and /health/ready.
func (h *Health) Mount(r *mux.Router) {
	r.HandleFunc("/health/alive", h.alive).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/health/ready", h.ready).Methods(http.MethodGet, http.MethodHead)
}

// MountMetrics registers /metrics, on the operations listener only: the
// metrics tell request rates and routes to whoever can read them.
func (h *Health) MountMetrics(r *mux.Router) {
	r.Handle("/metrics", h.Metrics.handler()).Methods(http.MethodGet)
}

// alive answers as long as the process serves HTTP.
func (h *Health) alive(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	web.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// ready answers 200 only when the database answers too, so that a load
// balancer stops sending traffic during an outage.
func (h *Health) ready(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := h.Store.Ping(ctx); err != nil {
		web.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "database": "unreachable"})
		return
	}
	web.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok", "database": "ok"})
}

// poolStats is what the metrics read from storage.
type poolStats interface {
	Stats() sql.DBStats
}

package ops

import (
	"database/sql"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// routes are the paths metrics are labelled with; anything else is "other"
// so that scanners cannot blow up the label set.
var routes = map[string]bool{
	"/authorize": true, "/token": true, "/introspect": true, "/revoke": true, "/userinfo": true,
	"/login": true, "/signup": true, "/consent": true, "/logout": true, "/": true,
	"/settings/apps": true, "/settings/apps/revoke": true,
	"/settings/api-keys": true, "/settings/api-keys/org": true,
	"/settings/developer": true, "/settings/developer/org": true, "/settings/developer/apps": true, "/settings/developer/tokens": true,
	"/.well-known/openid-configuration": true, "/.well-known/jwks.json": true,
	"/health/alive": true, "/health/ready": true, "/metrics": true,
}

// Metrics are the Prometheus metrics of one server.
type Metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewMetrics registers the metrics, reading the pool's state from db, and
// those of others (the mailer's, say).
func NewMetrics(db poolStats, others ...prometheus.Collector) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ajrly_http_requests_total",
			Help: "HTTP requests by route, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ajrly_http_request_duration_seconds",
			Help:    "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
	}
	m.registry.MustRegister(m.requests, m.duration,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m.registry.MustRegister(others...)
	pool := func(name, help string, read func(sql.DBStats) float64) {
		m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ajrly_db_" + name, Help: help},
			func() float64 { return read(db.Stats()) }))
	}
	pool("open_connections", "Open database connections.", func(s sql.DBStats) float64 { return float64(s.OpenConnections) })
	pool("in_use_connections", "Database connections in use.", func(s sql.DBStats) float64 { return float64(s.InUse) })
	pool("wait_count", "Requests that waited for a database connection (cumulative).", func(s sql.DBStats) float64 { return float64(s.WaitCount) })
	pool("wait_seconds", "Time spent waiting for database connections (cumulative).", func(s sql.DBStats) float64 { return s.WaitDuration.Seconds() })
	return m
}

// Observe counts an answered request (web.Options.Observe).
func (m *Metrics) Observe(r *http.Request, status int, elapsed time.Duration) {
	route := r.URL.Path
	if !routes[route] {
		route = "other"
	}
	m.requests.WithLabelValues(route, r.Method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(elapsed.Seconds())
}

func (m *Metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

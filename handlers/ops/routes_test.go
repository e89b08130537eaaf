package ops_test

import (
	"net/http"
	"testing"

	"github.com/ajrly/ajrly-auth/handlers/ops"
	"github.com/ajrly/ajrly-auth/handlers/web/webtest"
)

// TestRoutes is the operations surface's route table: the health checks
// and the metrics, which the public listener mounts without /metrics.
func TestRoutes(t *testing.T) {
	t.Parallel()
	env := webtest.New(t)
	h := &ops.Health{Store: env.Store, Metrics: ops.NewMetrics(env.Store)}
	h.Mount(env.Routes.Root)
	h.MountMetrics(env.Routes.Root)
	webtest.RouteTable(t, env, []webtest.Route{
		{Method: http.MethodGet, Path: "/health/alive", Status: http.StatusOK, ContentType: "application/json"},
		{Method: http.MethodGet, Path: "/health/ready", Status: http.StatusOK, ContentType: "application/json"},
		{Method: http.MethodGet, Path: "/metrics", Status: http.StatusOK, ContentType: "text/plain"},
		{Method: http.MethodPost, Path: "/health/alive", Status: http.StatusMethodNotAllowed, ContentType: "application/json"},
	})
}

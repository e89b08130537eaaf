package web_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/handlers/web/webtest"
)

// lockedBuffer is a log sink the handler's goroutine and the test share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// Every line logged while answering a request carries its id exactly
// once, though no call site passes it: the kit's logger reads it from the
// request's context.
func TestLogLinesCarryTheRequestID(t *testing.T) {
	t.Parallel()
	var out lockedBuffer
	env := webtest.New(t, func(o *web.Options) { o.Logger = slog.New(slog.NewJSONHandler(&out, nil)) })
	env.Routes.Root.HandleFunc("/logs", func(w http.ResponseWriter, r *http.Request) {
		env.Kit.Log.InfoContext(r.Context(), "inside the handler", "what", "work")
		w.WriteHeader(http.StatusNoContent)
	})
	env.Routes.Root.HandleFunc("/panics", func(http.ResponseWriter, *http.Request) { panic("boom") })
	b := env.Browser(t)
	ids := map[string]bool{}
	for _, path := range []string{"/logs", "/panics"} {
		rec := b.Do(http.MethodGet, path, nil)
		ids[rec.Header().Get("X-Request-ID")] = true
	}
	lines := strings.Split(strings.TrimSpace(out.buf.String()), "\n")
	if len(lines) != 4 { // the handler's line and the access line; the panic and its access line
		t.Fatalf("%d log lines, want 4:\n%s", len(lines), out.buf.String())
	}
	for _, line := range lines {
		if n := strings.Count(line, `"request_id"`); n != 1 {
			t.Errorf("request_id %d times in %s", n, line)
		}
		var rec struct {
			RequestID string `json:"request_id"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		if !ids[rec.RequestID] {
			t.Errorf("request_id %q is not one the answers carried (%v): %s", rec.RequestID, ids, line)
		}
	}
}

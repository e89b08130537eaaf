package main

import (
	"context"
	"strings"
	"syscall"
	"testing"
)

// TestServeSaysWhereMailGoes checks the one line serve logs at start about
// mail, and that it never shows the SMTP password.
func TestServeSaysWhereMailGoes(t *testing.T) {
	t.Parallel()
	const password = "Sm7p-PASSWORD"
	tests := []struct {
		name  string
		env   map[string]string
		args  []string
		want  string
		level string
	}{
		{
			name:  "smtp",
			env:   map[string]string{"AJRLY_SMTP_URL": "smtp://mailer:" + password + "@127.0.0.1:2525", "AJRLY_MAIL_FROM": "noreply@example.com"},
			want:  `msg="mail: sending through smtp://127.0.0.1:2525 as noreply@example.com"`,
			level: "level=INFO",
		},
		{
			name:  "demo",
			args:  []string{"--demo"},
			want:  `msg="mail: demo mode, messages go to the log and /demo/outbox"`,
			level: "level=INFO",
		},
		{
			name:  "off",
			want:  `msg="mail: no mail.smtp_url set: email verification and password reset are off"`,
			level: "level=WARN",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), startDeadline)
			defer cancel()
			env := newSQLite(t).env
			for k, v := range tc.env {
				env[k] = v
			}
			addr := freeAddr(t)
			p := startServe(t, env, append([]string{"--addr", addr, "--issuer", "http://" + addr, "--ops-addr", ""}, tc.args...)...)
			p.waitListening(ctx, t)
			if code := p.stop(ctx, t, syscall.SIGTERM); code != 0 {
				t.Errorf("serve exited with %d, want 0", code)
			}
			stderr := p.stderr.String()
			var line string
			for l := range strings.SplitSeq(stderr, "\n") {
				if strings.Contains(l, `msg="mail: `) {
					line = l
				}
			}
			wantContains(t, "the mail line", line, tc.want, tc.level)
			if strings.Count(stderr, `msg="mail: `) != 1 {
				t.Errorf("want one mail line at start:\n%s", stderr)
			}
			if strings.Contains(stderr+p.stdout.String(), password) {
				t.Errorf("serve printed the SMTP password:\n%s", stderr)
			}
		})
	}
}

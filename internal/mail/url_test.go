package mail_test

import (
	"strings"
	"testing"

	"github.com/ajrly/ajrly-auth/internal/mail"
)

func TestParseURL(t *testing.T) {
	t.Parallel()
	good := []struct {
		raw  string
		want mail.Server
		str  string
	}{
		{"smtp://user:pass@mail.example.com:2525", mail.Server{Host: "mail.example.com", Port: 2525, Username: "user", Password: "pass"}, "smtp://mail.example.com:2525"},
		{"smtp://user:pass@mail.example.com", mail.Server{Host: "mail.example.com", Port: 587, Username: "user", Password: "pass"}, "smtp://mail.example.com:587"},
		{"smtps://user:pass@mail.example.com", mail.Server{Host: "mail.example.com", Port: 465, ImplicitTLS: true, Username: "user", Password: "pass"}, "smtps://mail.example.com:465"},
		{"SMTPS://u:p@mail.example.com:10465/", mail.Server{Host: "mail.example.com", Port: 10465, ImplicitTLS: true, Username: "u", Password: "p"}, "smtps://mail.example.com:10465"},
		{"smtp://localhost:25", mail.Server{Host: "localhost", Port: 25}, "smtp://localhost:25"},
		{"smtp://[::1]:25", mail.Server{Host: "::1", Port: 25}, "smtp://[::1]:25"},
		{"smtp://apikey:p%40ss%23w%3Ard@smtp.example.com:587", mail.Server{Host: "smtp.example.com", Port: 587, Username: "apikey", Password: "p@ss#w:rd"}, "smtp://smtp.example.com:587"},
		{"smtp://user%40example.com:s3cret@smtp.example.com", mail.Server{Host: "smtp.example.com", Port: 587, Username: "user@example.com", Password: "s3cret"}, "smtp://smtp.example.com:587"},
	}
	for _, tc := range good {
		got, err := mail.ParseURL(tc.raw)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tc.raw, err)
			continue
		}
		if got != tc.want {
			t.Errorf("ParseURL(%q) = %+v, want %+v", tc.raw, got, tc.want)
		}
		if got.String() != tc.str {
			t.Errorf("ParseURL(%q).String() = %q, want %q", tc.raw, got.String(), tc.str)
		}
	}

	const password = "hunter2-SECRET"
	bad := []struct{ raw, want string }{
		{"", "empty"},
		{"mail.example.com:587", "not a URL"},
		{"http://user:" + password + "@mail.example.com", `unknown scheme "http"`},
		{"smtp://user:" + password + "@", "missing host"},
		{"smtp://user:" + password + "@mail.example.com:0", "port must be a number from 1 to 65535"},
		{"smtp://user:" + password + "@mail.example.com:99999", "port must be a number from 1 to 65535"},
		{"smtp://user:" + password + "@mail.example.com:", "empty port"},
		{"smtp://user:" + password + "@mail.example.com:587/inbox", "must not have a path"},
		{"smtp://user:" + password + "@mail.example.com:587?tls=off", "must not have a query"},
		{"smtp://user:pa#" + password + "@mail.example.com:587", "fragment"},
		{"smtp://user:" + password + "%zz@mail.example.com", "bad percent-encoding"},
		{"smtp://user:" + password + "@mail example.com", "invalid character in the host"},
		{"smtp://:" + password + "@mail.example.com", "a password without a user name"},
		{"smtp://" + password + "@mail.example.com", "a user name without a password"},
	}
	for _, tc := range bad {
		_, err := mail.ParseURL(tc.raw)
		if err == nil {
			t.Errorf("ParseURL(%q) succeeded, want an error with %q", tc.raw, tc.want)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "mail.smtp_url: ") || !strings.Contains(msg, tc.want) {
			t.Errorf("ParseURL(%q) = %q, want mail.smtp_url: … %q", tc.raw, msg, tc.want)
		}
		if strings.Contains(msg, password) {
			t.Errorf("ParseURL(%q) error shows the password: %q", tc.raw, msg)
		}
	}
}

package config_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/ajrly/ajrly-auth/config"
)

const smtpPassword = "Sm7p-PASSWORD"

func TestMailSettingsLoad(t *testing.T) {
	t.Parallel()
	url := "smtps://mailer:" + smtpPassword + "@smtp.example.com"
	for _, tc := range []struct {
		name string
		args []string
		env  env
		file string
	}{
		{name: "environment", env: env{"AJRLY_SMTP_URL": url, "AJRLY_MAIL_FROM": "noreply@example.com"}},
		{name: "flags", args: []string{"--smtp-url", url, "--mail-from", "noreply@example.com"}},
		{name: "file", file: "mail:\n  smtp_url: " + url + "\n  from: noreply@example.com\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.file != "" {
				tc.args = append(tc.args, "--config", writeFile(t, "ajrly.yaml", tc.file))
			}
			c, err := load(t, tc.args, tc.env)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range diff(c.MailSMTPURL, url, c.MailFrom, "noreply@example.com") {
				t.Error(p)
			}
		})
	}
}

func TestValidateMailSettings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		url      string
		from     string
		want     string // "" for valid
		leakable bool   // the URL holds smtpPassword
	}{
		{name: "no mail at all", url: "", from: ""},
		{name: "smtp with STARTTLS", url: "smtp://u:" + smtpPassword + "@smtp.example.com:587", from: "noreply@example.com", leakable: true},
		{name: "smtps with a default port", url: "smtps://u:" + smtpPassword + "@smtp.example.com", from: "Example <noreply@example.com>", leakable: true},
		{name: "relay without auth", url: "smtp://localhost:25", from: "noreply@example.com"},
		{name: "from without smtp (demo mode)", url: "", from: "noreply@example.com"},
		{name: "smtp without from", url: "smtp://localhost:25", want: "mail.from: required when mail.smtp_url is set"},
		{name: "from not an address", url: "smtp://localhost:25", from: "noreply", want: `mail.from: must be an email address`},
		{name: "unknown scheme", url: "https://u:" + smtpPassword + "@smtp.example.com", from: "a@example.com", want: `mail.smtp_url: unknown scheme "https"`, leakable: true},
		{name: "no scheme", url: "smtp.example.com:587", from: "a@example.com", want: "mail.smtp_url: not a URL"},
		{name: "no host", url: "smtp://u:" + smtpPassword + "@:587", from: "a@example.com", want: "mail.smtp_url: missing host", leakable: true},
		{name: "bad port", url: "smtp://u:" + smtpPassword + "@smtp.example.com:70000", from: "a@example.com", want: "mail.smtp_url: port must be", leakable: true},
		{name: "a query", url: "smtp://u:" + smtpPassword + "@smtp.example.com?x=1", from: "a@example.com", want: "mail.smtp_url: must not have a query", leakable: true},
		{name: "a # in the password", url: "smtp://u:a#" + smtpPassword + "@smtp.example.com", from: "a@example.com", want: "mail.smtp_url: must not have a fragment", leakable: true},
		{name: "bad escape", url: "smtp://u:%zz" + smtpPassword + "@smtp.example.com", from: "a@example.com", want: "mail.smtp_url: bad percent-encoding", leakable: true},
		{name: "user without password", url: "smtp://" + smtpPassword + "@smtp.example.com", from: "a@example.com", want: "mail.smtp_url: a user name without a password", leakable: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := config.Default()
			c.MailSMTPURL, c.MailFrom = tc.url, tc.from
			err := c.Validate()
			if tc.want == "" {
				checkErr(t, err, nil)
				return
			}
			checkErr(t, err, []string{tc.want})
			if err != nil && tc.leakable && strings.Contains(err.Error(), smtpPassword) {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}

func TestLogValueHidesTheSMTPPassword(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ url, show string }{
		{"smtp://mailer:" + smtpPassword + "@smtp.example.com:587", "smtp://mailer:xxxxx@smtp.example.com:587"},
		{"smtps://mailer:" + smtpPassword + "@smtp.example.com", "smtps://mailer:xxxxx@smtp.example.com"},
		{"smtp://" + smtpPassword + "@smtp.example.com", "smtp://xxxxx@smtp.example.com"},
		{"smtp://u:%zz" + smtpPassword + "@smtp.example.com", "xxxxx"},
		{"smtp://localhost:25", "smtp://localhost:25"},
		{"", ""},
	} {
		c := config.Default()
		c.MailSMTPURL, c.MailFrom = tc.url, "noreply@example.com"
		var text, js bytes.Buffer
		slog.New(slog.NewTextHandler(&text, nil)).Info("start", "config", c)
		slog.New(slog.NewJSONHandler(&js, nil)).Info("start", "config", c)
		for name, out := range map[string]string{
			"String": c.String(), "%v": fmt.Sprintf("%v", c), "%+v": fmt.Sprintf("%+v", c),
			"text handler": text.String(), "json handler": js.String(),
		} {
			if strings.Contains(out, smtpPassword) {
				t.Errorf("%s output shows the SMTP password: %s", name, out)
			}
		}
		var record struct {
			Config map[string]any `json:"config"`
		}
		if err := json.Unmarshal(js.Bytes(), &record); err != nil {
			t.Fatal(err)
		}
		for _, p := range diff(record.Config["mail.smtp_url"], tc.show, record.Config["mail.from"], "noreply@example.com") {
			t.Errorf("%s: %s", tc.url, p)
		}
	}
}

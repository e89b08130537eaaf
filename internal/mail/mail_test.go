package mail_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	netmail "net/mail"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ajrly/ajrly-auth/internal/mail"
)

// logBuffer collects a logger's output; slog handlers may write from
// several goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var testNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// newMailer returns a mailer for the issuer https://auth.example.com with
// fast retries, its log, and closes it at the end of the test.
func newMailer(t *testing.T, o mail.Options) (*mail.Mailer, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	if o.Issuer == "" {
		o.Issuer = "https://auth.example.com"
	}
	if o.Name == "" {
		o.Name = "Ajrly"
	}
	if o.From == "" && o.SMTPURL != "" {
		o.From = "noreply@example.com"
	}
	if o.Backoff == nil {
		o.Backoff = func(int) time.Duration { return time.Millisecond }
	}
	o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	o.Now = func() time.Time { return testNow }
	m, err := mail.New(o)
	if err != nil {
		t.Fatalf("mail.New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = m.Close(ctx)
	})
	return m, logs
}

// closeMailer closes m, waiting up to 10 s for the queue to drain.
func closeMailer(t *testing.T, m *mail.Mailer) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return m.Close(ctx)
}

// metric returns the value of the mailer's metric name (with label
// reason=reason if not "").
func metric(t *testing.T, m *mail.Mailer, name, reason string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	if err := reg.Register(m); err != nil {
		t.Fatal(err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, mt := range f.GetMetric() {
			match := reason == ""
			for _, l := range mt.GetLabel() {
				if l.GetName() == "reason" && l.GetValue() == reason {
					match = true
				}
			}
			if !match {
				continue
			}
			switch {
			case mt.Counter != nil:
				return mt.Counter.GetValue()
			case mt.Gauge != nil:
				return mt.Gauge.GetValue()
			}
		}
	}
	t.Fatalf("no metric %s{reason=%q}", name, reason)
	return 0
}

func smtpURL(s *smtpServer) string { return "smtp://" + s.addr }

// linkTemplates are templates that carry a secret link, as the
// verification and reset mails will.
var linkTemplates = fstest.MapFS{
	"link.txt":  {Data: []byte(`{{define "subject"}}Verify {{.Data.Name}}{{end}}Hello {{.Data.Name}}, open {{.Data.Link}}` + "\n")},
	"link.html": {Data: []byte(`<p>Hello {{.Data.Name}}, <a href="{{.Data.Link}}">verify</a></p>`)},
}

type linkData struct{ Name, Link string }

const secretLink = "https://auth.example.com/email/verify?token=S3CRET-TOKEN-abc123"

func send(t *testing.T, m *mail.Mailer, msg mail.Message) {
	t.Helper()
	if err := m.Send(context.Background(), msg); err != nil {
		t.Fatalf("Send: %v", err)
	}
}

func TestSendsPlainTextAndHTMLWithHeaders(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t, serverOptions{})
	m, _ := newMailer(t, mail.Options{SMTPURL: smtpURL(srv)})
	if !m.Enabled() {
		t.Fatal("a mailer with an SMTP URL is not enabled")
	}
	send(t, m, mail.Message{To: "Alice <alice@example.org>", Template: "test"})

	r := srv.next(t)
	if r.from != "noreply@example.com" || len(r.to) != 1 || r.to[0] != "alice@example.org" {
		t.Errorf("envelope from %q to %v, want noreply@example.com to [alice@example.org]", r.from, r.to)
	}
	p := parse(t, r.data)
	from, err := netmail.ParseAddress(p.header.Get("From"))
	if err != nil || from.Name != "Ajrly" || from.Address != "noreply@example.com" {
		t.Errorf("From %q (%v), want Ajrly <noreply@example.com>", p.header.Get("From"), err)
	}
	if to := p.header.Get("To"); !strings.Contains(to, "alice@example.org") {
		t.Errorf("To %q", to)
	}
	if got := p.header.Get("Subject"); got != "Test message from Ajrly" {
		t.Errorf("Subject %q", got)
	}
	if id := p.header.Get("Message-ID"); !regexp.MustCompile(`^<[a-z2-7]{32}@auth\.example\.com>$`).MatchString(id) {
		t.Errorf("Message-ID %q, want <random@auth.example.com>", id)
	}
	if d, err := p.header.Date(); err != nil || !d.Equal(testNow) {
		t.Errorf("Date %q (%v), want %v", p.header.Get("Date"), err, testNow)
	}
	if got := p.header.Get("Auto-Submitted"); got != "auto-generated" {
		t.Errorf("Auto-Submitted %q", got)
	}
	if !strings.Contains(p.text, "This is a test message from Ajrly (https://auth.example.com).") {
		t.Errorf("text part:\n%s", p.text)
	}
	if !strings.Contains(p.html, `This is a test message from Ajrly (<a href="https://auth.example.com">https://auth.example.com</a>).`) {
		t.Errorf("HTML part:\n%s", p.html)
	}
	if err := closeMailer(t, m); err != nil {
		t.Fatal(err)
	}
	if got := metric(t, m, "ajrly_mail_sent_total", ""); got != 1 {
		t.Errorf("ajrly_mail_sent_total = %v, want 1", got)
	}
}

func TestFromKeepsItsOwnDisplayName(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t, serverOptions{})
	m, _ := newMailer(t, mail.Options{SMTPURL: smtpURL(srv), From: "Acme Accounts <accounts@acme.example>"})
	send(t, m, mail.Message{To: "bob@example.org", Template: "test"})
	from, err := netmail.ParseAddress(parse(t, srv.next(t).data).header.Get("From"))
	if err != nil || from.Name != "Acme Accounts" || from.Address != "accounts@acme.example" {
		t.Errorf("From %v (%v), want Acme Accounts <accounts@acme.example>", from, err)
	}
}

func TestHTMLPartEscapesData(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t, serverOptions{})
	m, _ := newMailer(t, mail.Options{SMTPURL: smtpURL(srv), Templates: linkTemplates, Name: `Ajrly <Test> & Co`})
	const name = `<script>alert("x")</script>`
	send(t, m, mail.Message{To: "bob@example.org", Template: "link", Data: linkData{Name: name, Link: "https://auth.example.com/x?a=1&b=2"}})
	p := parse(t, srv.next(t).data)
	if strings.Contains(p.html, "<script>") || !strings.Contains(p.html, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
		t.Errorf("HTML part does not escape the data:\n%s", p.html)
	}
	if !strings.Contains(p.html, `href="https://auth.example.com/x?a=1&amp;b=2"`) {
		t.Errorf("HTML part does not escape the link:\n%s", p.html)
	}
	if !strings.Contains(p.text, "Hello "+name+", open https://auth.example.com/x?a=1&b=2") {
		t.Errorf("text part:\n%s", p.text)
	}
	if got := p.header.Get("Subject"); got != "Verify "+name {
		t.Errorf("Subject %q", got)
	}

	// The shipped template escapes the issuer's name as well.
	m2, _ := newMailer(t, mail.Options{SMTPURL: smtpURL(srv), Name: `Ajrly <Test> & Co`})
	send(t, m2, mail.Message{To: "bob@example.org", Template: "test"})
	p = parse(t, srv.next(t).data)
	if strings.Contains(p.html, "<Test>") || !strings.Contains(p.html, "Ajrly &lt;Test&gt; &amp; Co") {
		t.Errorf("HTML part does not escape the name:\n%s", p.html)
	}
}

func TestAuthenticatesWithPlain(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t, serverOptions{user: "mailer", pass: "p@ss word"})
	m, _ := newMailer(t, mail.Options{SMTPURL: "smtp://mailer:p%40ss%20word@" + srv.addr})
	send(t, m, mail.Message{To: "bob@example.org", Template: "test"})
	if r := srv.next(t); r.user != "mailer" {
		t.Errorf("authenticated as %q, want mailer", r.user)
	}

	// A wrong password is a permanent failure: not retried, counted.
	bad, logs := newMailer(t, mail.Options{SMTPURL: "smtp://mailer:wrong-PASSWORD@" + srv.addr})
	send(t, bad, mail.Message{To: "bob@example.org", Template: "test"})
	if err := closeMailer(t, bad); err != nil {
		t.Fatal(err)
	}
	if got := metric(t, bad, "ajrly_mail_failed_total", mail.ReasonRejected); got != 1 {
		t.Errorf("failed{rejected} = %v, want 1\n%s", got, logs)
	}
	if strings.Contains(logs.String(), "wrong-PASSWORD") {
		t.Errorf("the log shows the password:\n%s", logs)
	}
	srv.none(t)
}

func TestUpgradesWithSTARTTLSWhenOffered(t *testing.T) {
	t.Parallel()
	serverTLS, clientTLS := testCert(t)
	srv := startSMTP(t, serverOptions{user: "mailer", pass: "secret", starttls: serverTLS})
	m, _ := newMailer(t, mail.Options{SMTPURL: "smtp://mailer:secret@" + srv.addr, TLSConfig: clientTLS})
	send(t, m, mail.Message{To: "bob@example.org", Template: "test"})
	if r := srv.next(t); !r.tls || r.user != "mailer" {
		t.Errorf("received over TLS %v as %q, want TLS as mailer", r.tls, r.user)
	}

	// A certificate the mailer does not trust stops the delivery.
	untrusting, logs := newMailer(t, mail.Options{SMTPURL: "smtp://mailer:secret@" + srv.addr, Attempts: 2})
	send(t, untrusting, mail.Message{To: "bob@example.org", Template: "test"})
	if err := closeMailer(t, untrusting); err != nil {
		t.Fatal(err)
	}
	if got := metric(t, untrusting, "ajrly_mail_failed_total", mail.ReasonExhausted); got != 1 {
		t.Errorf("failed{attempts_exhausted} = %v, want 1\n%s", got, logs)
	}
	if !strings.Contains(logs.String(), "certificate") {
		t.Errorf("the log does not say why:\n%s", logs)
	}
	srv.none(t)
}

func TestImplicitTLSForSMTPS(t *testing.T) {
	t.Parallel()
	serverTLS, clientTLS := testCert(t)
	srv := startSMTP(t, serverOptions{user: "mailer", pass: "secret", implicitTLS: serverTLS})
	m, _ := newMailer(t, mail.Options{SMTPURL: "smtps://mailer:secret@" + srv.addr, TLSConfig: clientTLS})
	send(t, m, mail.Message{To: "bob@example.org", Template: "test"})
	if r := srv.next(t); !r.tls || r.user != "mailer" {
		t.Errorf("received over TLS %v as %q, want TLS as mailer", r.tls, r.user)
	}
}

func TestRetriesAfterATemporaryFailure(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t, serverOptions{})
	srv.failNext(tempFailure, tempFailure)
	var waits []int
	var mu sync.Mutex
	m, logs := newMailer(t, mail.Options{SMTPURL: smtpURL(srv), Backoff: func(n int) time.Duration {
		mu.Lock()
		defer mu.Unlock()
		waits = append(waits, n)
		return time.Millisecond
	}})
	send(t, m, mail.Message{To: "bob@example.org", Template: "test"})
	srv.next(t)
	if err := closeMailer(t, m); err != nil {
		t.Fatal(err)
	}
	if got := srv.dataAttempts(); got != 3 {
		t.Errorf("%d attempts, want 3", got)
	}
	mu.Lock()
	if fmt.Sprint(waits) != "[1 2]" {
		t.Errorf("backoff asked for %v, want [1 2]", waits)
	}
	mu.Unlock()
	if got := metric(t, m, "ajrly_mail_sent_total", ""); got != 1 {
		t.Errorf("sent = %v, want 1", got)
	}
	if got := metric(t, m, "ajrly_mail_failed_total", mail.ReasonExhausted); got != 0 {
		t.Errorf("failed = %v, want 0", got)
	}
	if n := strings.Count(logs.String(), "will retry"); n != 2 {
		t.Errorf("%d retries logged, want 2:\n%s", n, logs)
	}
}

func TestGivesUpAfterTheLastAttempt(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t, serverOptions{})
	srv.failNext(tempFailure, tempFailure, tempFailure)
	m, logs := newMailer(t, mail.Options{SMTPURL: smtpURL(srv), Attempts: 3})
	send(t, m, mail.Message{To: "bob@example.org", Template: "test"})
	if err := closeMailer(t, m); err != nil {
		t.Fatal(err)
	}
	if got := srv.dataAttempts(); got != 3 {
		t.Errorf("%d attempts, want 3", got)
	}
	if got := metric(t, m, "ajrly_mail_failed_total", mail.ReasonExhausted); got != 1 {
		t.Errorf("failed{attempts_exhausted} = %v, want 1", got)
	}
	if got := metric(t, m, "ajrly_mail_sent_total", ""); got != 0 {
		t.Errorf("sent = %v, want 0", got)
	}
	if got := metric(t, m, "ajrly_mail_queue_depth", ""); got != 0 {
		t.Errorf("queue depth = %v, want 0", got)
	}
	if !strings.Contains(logs.String(), "giving up") || !strings.Contains(logs.String(), "451") {
		t.Errorf("the log does not say it gave up and why:\n%s", logs)
	}
	srv.none(t)
}

func TestPermanentFailureIsNotRetried(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t, serverOptions{})
	srv.failNext(rejected)
	m, _ := newMailer(t, mail.Options{SMTPURL: smtpURL(srv)})
	send(t, m, mail.Message{To: "bob@example.org", Template: "test"})
	if err := closeMailer(t, m); err != nil {
		t.Fatal(err)
	}
	if got := srv.dataAttempts(); got != 1 {
		t.Errorf("%d attempts, want 1", got)
	}
	if got := metric(t, m, "ajrly_mail_failed_total", mail.ReasonRejected); got != 1 {
		t.Errorf("failed{rejected} = %v, want 1", got)
	}
}

// silentServer accepts connections and never answers, so that deliveries
// hang until the mailer gives up on them.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

func TestFullQueueIsAnErrorAtOnce(t *testing.T) {
	t.Parallel()
	m, _ := newMailer(t, mail.Options{SMTPURL: "smtp://" + silentServer(t), QueueSize: 2, Workers: 1, Timeout: time.Minute})
	for range 2 {
		send(t, m, mail.Message{To: "bob@example.org", Template: "test"})
	}
	errc := make(chan error, 1)
	go func() { errc <- m.Send(context.Background(), mail.Message{To: "bob@example.org", Template: "test"}) }()
	select {
	case err := <-errc:
		if !errors.Is(err, mail.ErrQueueFull) {
			t.Errorf("Send on a full queue = %v, want ErrQueueFull", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Send on a full queue blocked")
	}
	if got := metric(t, m, "ajrly_mail_queue_depth", ""); got != 2 {
		t.Errorf("queue depth = %v, want 2", got)
	}
	if got := metric(t, m, "ajrly_mail_failed_total", mail.ReasonQueueFull); got != 1 {
		t.Errorf("failed{queue_full} = %v, want 1", got)
	}

	// Close gives up when its context ends, even with a delivery hanging
	// on a server that never answers, and counts what it lost.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.Close(ctx); err == nil || !strings.Contains(err.Error(), "2 messages not delivered") {
		t.Errorf("Close = %v, want 2 messages not delivered", err)
	}
	if got := metric(t, m, "ajrly_mail_failed_total", mail.ReasonShutdown); got != 2 {
		t.Errorf("failed{shutdown} = %v, want 2", got)
	}
	if got := metric(t, m, "ajrly_mail_queue_depth", ""); got != 0 {
		t.Errorf("queue depth after Close = %v, want 0", got)
	}
}

func TestCloseDrainsTheQueue(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t, serverOptions{})
	// The first message waits an hour for its retry; Close tries it at once.
	srv.failNext(tempFailure)
	m, _ := newMailer(t, mail.Options{SMTPURL: smtpURL(srv), Workers: 1, Backoff: func(int) time.Duration { return time.Hour }})
	for i := range 5 {
		send(t, m, mail.Message{To: fmt.Sprintf("user%d@example.org", i), Template: "test"})
	}
	if err := closeMailer(t, m); err != nil {
		t.Fatalf("Close: %v", err)
	}
	got := map[string]bool{}
	for range 5 {
		got[srv.next(t).to[0]] = true
	}
	if len(got) != 5 {
		t.Errorf("received %v, want 5 recipients", got)
	}
	if n := metric(t, m, "ajrly_mail_sent_total", ""); n != 5 {
		t.Errorf("sent = %v, want 5", n)
	}
	if err := m.Send(context.Background(), mail.Message{To: "late@example.org", Template: "test"}); !errors.Is(err, mail.ErrClosed) {
		t.Errorf("Send after Close = %v, want ErrClosed", err)
	}
}

func TestSMTPModeLogsNeitherBodyNorLink(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t, serverOptions{})
	srv.failNext(tempFailure, rejected)
	m, logs := newMailer(t, mail.Options{SMTPURL: smtpURL(srv), Templates: linkTemplates})
	for range 2 { // one retried then rejected, one sent
		send(t, m, mail.Message{To: "carol@Example.ORG", Template: "link", Data: linkData{Name: "Carol", Link: secretLink}})
	}
	if err := closeMailer(t, m); err != nil {
		t.Fatal(err)
	}
	srv.next(t)
	out := logs.String()
	for _, secret := range []string{"S3CRET-TOKEN", "email/verify", "Hello Carol", "carol@"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log contains %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{"to_domain=example.org", "template=link", "will retry", "giving up", "mail sent"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %q:\n%s", want, out)
		}
	}
}

func TestDemoModeKeepsAnOutboxAndLogsTheText(t *testing.T) {
	t.Parallel()
	m, logs := newMailer(t, mail.Options{Demo: true, Templates: linkTemplates})
	if !m.Enabled() || m.Status() != "mail: demo mode, messages go to the log and /demo/outbox" {
		t.Fatalf("demo mailer: enabled %v, %q", m.Enabled(), m.Status())
	}
	var wg sync.WaitGroup
	for i := range 40 { // concurrently: the outbox is shared
		wg.Go(func() {
			send(t, m, mail.Message{To: fmt.Sprintf("c%d@example.org", i), Template: "link", Data: linkData{Name: "C", Link: secretLink}})
		})
	}
	wg.Wait()
	for i := range 20 {
		send(t, m, mail.Message{To: fmt.Sprintf("s%d@example.org", i), Template: "link", Data: linkData{Name: "S", Link: secretLink}})
	}
	out := m.Outbox()
	if len(out) != 50 {
		t.Fatalf("outbox holds %d, want the last 50", len(out))
	}
	for i := range 20 {
		if want := fmt.Sprintf("s%d@example.org", 19-i); out[i].To != want {
			t.Errorf("outbox[%d] to %s, want %s (newest first)", i, out[i].To, want)
		}
	}
	first := out[0]
	if first.Subject != "Verify S" || !strings.Contains(first.Text, secretLink) || !strings.Contains(first.HTML, "verify</a>") ||
		!strings.HasSuffix(first.MessageID, "@auth.example.com") || !first.Date.Equal(testNow) || first.Template != "link" {
		t.Errorf("outbox[0] = %+v", first)
	}
	if !strings.Contains(logs.String(), secretLink) || !strings.Contains(logs.String(), "s19@example.org") {
		t.Errorf("demo log lacks the link or the recipient:\n%s", logs)
	}
	if got := metric(t, m, "ajrly_mail_sent_total", ""); got != 60 {
		t.Errorf("sent = %v, want 60", got)
	}
}

func TestWithoutSMTPOrDemoMailIsOff(t *testing.T) {
	t.Parallel()
	m, _ := newMailer(t, mail.Options{})
	if m.Enabled() {
		t.Error("a mailer without SMTP or demo mode is enabled")
	}
	if got, want := m.Status(), "mail: no mail.smtp_url set: email verification and password reset are off"; got != want {
		t.Errorf("Status() = %q, want %q", got, want)
	}
	if err := m.Send(context.Background(), mail.Message{To: "bob@example.org", Template: "test"}); !errors.Is(err, mail.ErrDisabled) {
		t.Errorf("Send = %v, want ErrDisabled", err)
	}
	if m.Outbox() != nil {
		t.Error("Outbox outside demo mode is not nil")
	}
}

func TestStatusShowsNoPassword(t *testing.T) {
	t.Parallel()
	m, _ := newMailer(t, mail.Options{SMTPURL: "smtp://user:hunter2@mail.example.com", From: "noreply@example.com"})
	if got, want := m.Status(), "mail: sending through smtp://mail.example.com:587 as noreply@example.com"; got != want {
		t.Errorf("Status() = %q, want %q", got, want)
	}
}

func TestBadMessagesAreErrorsOfSend(t *testing.T) {
	t.Parallel()
	m, _ := newMailer(t, mail.Options{SMTPURL: "smtp://" + silentServer(t), Templates: linkTemplates})
	for _, tc := range []struct {
		msg  mail.Message
		want string
	}{
		{mail.Message{To: "bob@example.org", Template: "nope"}, `unknown template "nope"`},
		{mail.Message{To: "not an address", Template: "link", Data: linkData{}}, "not an email address"},
		{mail.Message{To: "bob@example.org", Template: "link", Data: struct{ Name string }{}}, "render"},
	} {
		if err := m.Send(context.Background(), tc.msg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Send(%+v) = %v, want an error with %q", tc.msg, err, tc.want)
		}
	}
	if got := metric(t, m, "ajrly_mail_queue_depth", ""); got != 0 {
		t.Errorf("queue depth = %v, want 0", got)
	}
}

func TestNewRefusesBadSettings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts mail.Options
		want string
	}{
		{"bad URL", mail.Options{SMTPURL: "smtp://user:hunter2@host:99999", From: "a@example.com"}, "mail.smtp_url: port"},
		{"no from", mail.Options{SMTPURL: "smtp://host:25"}, "mail.from: required"},
		{"bad from", mail.Options{SMTPURL: "smtp://host:25", From: "nobody"}, "mail.from:"},
		{"half a template", mail.Options{Demo: true, Templates: fstest.MapFS{"x.txt": {Data: []byte(`{{define "subject"}}s{{end}}`)}}}, "x.html"},
		{"no subject", mail.Options{Demo: true, Templates: fstest.MapFS{"x.txt": {Data: []byte("x")}, "x.html": {Data: []byte("x")}}}, "defines no subject"},
		{"bad issuer", mail.Options{Demo: true, Issuer: "auth"}, "issuer"},
	} {
		tc.opts.Name = "Ajrly"
		if tc.opts.Issuer == "" {
			tc.opts.Issuer = "https://auth.example.com"
		}
		_, err := mail.New(tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: New = %v, want an error with %q", tc.name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: error shows the password: %v", tc.name, err)
		}
	}
}

// The TLS config option must be cloned, not changed.
func TestTLSConfigIsNotModified(t *testing.T) {
	t.Parallel()
	serverTLS, clientTLS := testCert(t)
	srv := startSMTP(t, serverOptions{starttls: serverTLS})
	shared := clientTLS.Clone()
	m, _ := newMailer(t, mail.Options{SMTPURL: smtpURL(srv), TLSConfig: shared})
	send(t, m, mail.Message{To: "bob@example.org", Template: "test"})
	if r := srv.next(t); !r.tls {
		t.Error("not received over TLS")
	}
	if shared.ServerName != "" {
		t.Errorf("the caller's tls.Config got ServerName %q", shared.ServerName)
	}
	_ = tls.VersionTLS12
}

func TestDefaultBackoffSpreadsFiveAttemptsOverAboutTenMinutes(t *testing.T) {
	t.Parallel()
	var total time.Duration
	for n := 1; n < mail.DefaultAttempts; n++ {
		want := 40 * time.Second << (n - 1)
		for range 100 {
			if d := mail.Backoff(n); d < want*8/10 || d > want*12/10 {
				t.Fatalf("Backoff(%d) = %v, want %v ± 20%%", n, d, want)
			}
		}
		total += want
	}
	if total != 10*time.Minute {
		t.Errorf("the waits add up to %v, want 10m", total)
	}
}

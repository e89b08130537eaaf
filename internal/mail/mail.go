// Package mail delivers the server's email: verification links, password
// resets, notices. A Mailer renders each Message from embedded templates
// (a plain-text and an HTML part) at once, so that a template error reaches
// the caller, and delivers it in the background over SMTP, retrying with
// backoff, so that no page waits on a mail server. In demo mode without
// SMTP it writes messages to the log and keeps the last ones for the
// /demo/outbox page instead.
//
// The package is a leaf: it knows nothing of the rest of the server but
// the values in Options.
package mail

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base32"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	mathrand "math/rand/v2"
	netmail "net/mail"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	// ErrDisabled is returned by Send when neither SMTP nor demo mode is
	// configured: the features that need mail are off (see Enabled).
	ErrDisabled = errors.New("mail: not configured (set mail.smtp_url)")
	// ErrQueueFull is returned by Send when QueueSize messages are waiting.
	ErrQueueFull = errors.New("mail: the delivery queue is full")
	// ErrClosed is returned by Send after Close.
	ErrClosed = errors.New("mail: the mailer is closed")
)

// Defaults of Options.
const (
	DefaultQueueSize = 1000
	DefaultWorkers   = 2
	DefaultAttempts  = 5
	DefaultTimeout   = 30 * time.Second
)

// Failure reasons, the values of the reason label of
// ajrly_mail_failed_total.
const (
	ReasonRejected  = "rejected"           // the server refused it for good (5xx)
	ReasonExhausted = "attempts_exhausted" // every attempt failed temporarily
	ReasonQueueFull = "queue_full"         // Send refused it
	ReasonShutdown  = "shutdown"           // still undelivered when the mailer closed
)

// Options configure a Mailer.
type Options struct {
	// SMTPURL is mail.smtp_url: smtp://user:pass@host:port (STARTTLS when
	// offered), smtps://user:pass@host:port (TLS) or smtp://host:port (no
	// authentication). Empty means no SMTP.
	SMTPURL string
	// From is the sender address, mail.from. If it has no display name,
	// Name is used. Required with SMTPURL; in demo mode it defaults to
	// noreply@ the issuer's host.
	From string
	// Name is the issuer's display name, as people know the service.
	Name string
	// Issuer is the issuer URL; its host ends every Message-ID.
	Issuer string
	// Demo sends messages to the log and the outbox when SMTPURL is empty.
	Demo bool
	// Logger receives delivery failures (never a body or link outside demo
	// mode). Nil means slog.Default.
	Logger *slog.Logger

	// TLSConfig, if set, replaces the TLS settings (e.g. RootCAs for a
	// private CA); its ServerName defaults to the SMTP host.
	TLSConfig *tls.Config
	// Templates holds NAME.txt and NAME.html for every message; nil means
	// the templates shipped with the binary (Templates).
	Templates fs.FS
	// QueueSize bounds the messages accepted and not yet delivered.
	QueueSize int
	// Workers is how many deliveries run at once.
	Workers int
	// Attempts is how many times a message is tried before it is given up.
	Attempts int
	// Backoff returns the wait after the nth failed attempt (n from 1);
	// nil means Backoff.
	Backoff func(n int) time.Duration
	// Timeout bounds one attempt.
	Timeout time.Duration
	// Now is the clock of the Date header; nil means time.Now.
	Now func() time.Time
}

// Backoff is the default wait after the nth failed attempt: 40s, 80s, 160s,
// 320s (about ten minutes over five attempts), each within ±20% so that
// several instances do not retry in step.
func Backoff(n int) time.Duration {
	d := 40 * time.Second << min(n-1, 10)
	return time.Duration(float64(d) * (0.8 + 0.4*mathrand.Float64())) //nolint:gosec // G404: jitter, not a secret
}

// Message is one mail to send.
type Message struct {
	// To is the recipient's address.
	To string
	// Template names the message: templates NAME.txt and NAME.html.
	Template string
	// Data is what the templates see as .Data.
	Data any
}

// mode is how a Mailer delivers.
type mode int

const (
	modeOff mode = iota
	modeSMTP
	modeDemo
)

// envelope is a rendered message on its way.
type envelope struct {
	to, domain, template string
	subject, text, html  string
	messageID            string // without the angle brackets
	date                 time.Time
	attempts             int
}

// A Mailer sends Messages. It is safe for concurrent use, and it is a
// prometheus.Collector: register it with the server's registry to export
// ajrly_mail_sent_total, ajrly_mail_failed_total{reason} and
// ajrly_mail_queue_depth.
type Mailer struct {
	mode      mode
	server    Server
	from      *netmail.Address
	name      string
	issuer    string
	host      string // the issuer's, for Message-IDs
	templates map[string]message
	log       *slog.Logger
	now       func() time.Time
	smtp      *smtpSender
	outbox    *LogSender
	attempts  int
	backoff   func(int) time.Duration
	queueSize int

	queue   chan *envelope
	ctx     context.Context // ends when Close gives up waiting
	cancel  context.CancelFunc
	closing chan struct{} // closed by Close: retry now, accept nothing
	wg      sync.WaitGroup

	mu      sync.Mutex
	pending int  // accepted, not yet sent or given up
	closed  bool // Close was called
	drained chan struct{}

	sent   prometheus.Counter
	failed *prometheus.CounterVec
	depth  prometheus.GaugeFunc
}

// New returns a Mailer for opts and, with SMTP, starts its workers; stop
// them with Close. With neither SMTPURL nor Demo it returns a Mailer that
// is not Enabled. Errors name the setting and never show the password.
func New(opts Options) (*Mailer, error) {
	m := &Mailer{
		name:      opts.Name,
		issuer:    opts.Issuer,
		log:       opts.Logger,
		now:       opts.Now,
		attempts:  opts.Attempts,
		backoff:   opts.Backoff,
		queueSize: opts.QueueSize,
		closing:   make(chan struct{}),
		drained:   make(chan struct{}),
	}
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.attempts <= 0 {
		m.attempts = DefaultAttempts
	}
	if m.backoff == nil {
		m.backoff = Backoff
	}
	if m.queueSize <= 0 {
		m.queueSize = DefaultQueueSize
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = DefaultWorkers
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	m.initMetrics()

	u, err := url.Parse(opts.Issuer)
	if err != nil || u.Hostname() == "" {
		return nil, fmt.Errorf("mail: the issuer %q is not an absolute URL", opts.Issuer)
	}
	m.host = u.Hostname()
	if m.name == "" {
		m.name = m.host
	}

	switch {
	case opts.SMTPURL != "":
		m.mode = modeSMTP
		if m.server, err = ParseURL(opts.SMTPURL); err != nil {
			return nil, err
		}
		if opts.From == "" {
			return nil, errors.New("mail.from: required when mail.smtp_url is set (e.g. noreply@example.com)")
		}
		m.smtp = &smtpSender{server: m.server, tls: opts.TLSConfig, timeout: timeout}
	case opts.Demo:
		m.mode = modeDemo
		m.outbox = NewLogSender(m.log)
	default:
		return m, nil
	}
	from := opts.From
	if from == "" {
		from = "noreply@" + m.host
	}
	if m.from, err = netmail.ParseAddress(from); err != nil {
		return nil, fmt.Errorf("mail.from: %q is not an email address like noreply@example.com", from)
	}
	if m.from.Name == "" {
		m.from.Name = m.name
	}

	tmplFS := opts.Templates
	if tmplFS == nil {
		tmplFS = Templates()
	}
	if m.templates, err = parseTemplates(tmplFS); err != nil {
		return nil, err
	}

	if m.mode == modeSMTP {
		m.queue = make(chan *envelope, m.queueSize)
		m.ctx, m.cancel = context.WithCancel(context.Background())
		for range workers {
			m.wg.Go(m.work)
		}
	}
	return m, nil
}

// Enabled reports whether messages go anywhere: false when neither SMTP
// nor demo mode is configured, and the features that need mail turn
// themselves off.
func (m *Mailer) Enabled() bool { return m.mode != modeOff }

// Status says in one line where mail goes, for the log at start; it never
// shows the password.
func (m *Mailer) Status() string {
	switch m.mode {
	case modeSMTP:
		return fmt.Sprintf("mail: sending through %s as %s", m.server, m.from.Address)
	case modeDemo:
		return "mail: demo mode, messages go to the log and /demo/outbox"
	}
	return "mail: no mail.smtp_url set: email verification and password reset are off"
}

// LogsOnly reports whether the mailer is demo mode's: messages go to the
// log and the outbox, never to a server.
func (m *Mailer) LogsOnly() bool { return m.outbox != nil }

// Outbox returns the last messages of demo mode, newest first, or nil
// outside demo mode.
func (m *Mailer) Outbox() []Sent {
	if m.outbox == nil {
		return nil
	}
	return m.outbox.Outbox()
}

// Send renders msg and queues it for delivery. It returns at once: an
// error is a bad message (unknown template, template error, bad address),
// a full queue, or a mailer that is closed or not Enabled, never a
// delivery failure, which the mailer logs and counts itself. In demo mode
// the message is in the outbox when Send returns.
func (m *Mailer) Send(ctx context.Context, msg Message) error {
	if m.mode == modeOff {
		return ErrDisabled
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	e, err := m.render(msg)
	if err != nil {
		return err
	}
	if m.mode == modeDemo {
		m.outbox.deliver(e)
		m.sent.Inc()
		return nil
	}

	m.mu.Lock()
	switch {
	case m.closed:
		m.mu.Unlock()
		return ErrClosed
	case m.pending >= m.queueSize:
		m.mu.Unlock()
		m.failed.WithLabelValues(ReasonQueueFull).Inc()
		return ErrQueueFull
	}
	m.pending++
	m.mu.Unlock()
	// pending counts every message in the queue, so there is room.
	m.queue <- e
	return nil
}

// render turns msg into an envelope with its headers.
func (m *Mailer) render(msg Message) (*envelope, error) {
	t, ok := m.templates[msg.Template]
	if !ok {
		return nil, fmt.Errorf("mail: unknown template %q", msg.Template)
	}
	to, err := netmail.ParseAddress(msg.To)
	if err != nil {
		return nil, fmt.Errorf("mail %s: the recipient is not an email address", msg.Template)
	}
	r, err := t.render(view{Name: m.name, Issuer: m.issuer, To: to.Address, Data: msg.Data})
	if err != nil {
		return nil, fmt.Errorf("mail %s: render: %w", msg.Template, err)
	}
	_, domain, _ := strings.Cut(to.Address, "@")
	return &envelope{
		to: to.Address, domain: strings.ToLower(domain), template: msg.Template,
		subject: r.subject, text: r.text, html: r.html,
		messageID: randomID() + "@" + m.host,
		date:      m.now(),
	}, nil
}

// randomID returns 20 random bytes in lower-case base32: unique without
// coordination between instances.
func randomID() string {
	var b [20]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// work delivers queued messages until the mailer stops.
func (m *Mailer) work() {
	for {
		select {
		case <-m.ctx.Done():
			return
		case e := <-m.queue:
			if m.ctx.Err() != nil {
				return // Close counts e as lost
			}
			m.attempt(e)
		}
	}
}

// attempt delivers e once and then counts it as sent or given up, or
// schedules its next attempt.
func (m *Mailer) attempt(e *envelope) {
	e.attempts++
	ctx, cancel := context.WithCancel(m.ctx)
	err := m.smtp.deliver(ctx, m.from, e)
	cancel()
	if err == nil {
		m.sent.Inc()
		m.log.Info("mail sent", "template", e.template, "to_domain", e.domain, "attempts", e.attempts)
		m.done()
		return
	}
	if m.ctx.Err() != nil {
		return // Close gave up waiting, cutting this attempt short: it counts e as lost
	}
	attrs := []any{"template", e.template, "to_domain", e.domain, "attempts", e.attempts, "err", err}
	switch {
	case isPermanent(err):
		m.giveUp(e, ReasonRejected, attrs)
		return
	case e.attempts >= m.attempts:
		m.giveUp(e, ReasonExhausted, attrs)
		return
	}
	delay := m.backoff(e.attempts)
	if isClosed(m.closing) {
		delay = 0 // draining: the next attempt now rather than never
	}
	m.log.Warn("mail delivery failed; will retry", append(attrs, "retry_in", delay)...)
	m.wg.Go(func() {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-m.closing: // draining: the next attempt now rather than never
		case <-m.ctx.Done():
		}
		if m.ctx.Err() != nil {
			return // Close counts e as lost
		}
		m.queue <- e // e is still pending, so there is room
	})
}

// giveUp logs and counts e as failed for reason.
func (m *Mailer) giveUp(e *envelope, reason string, attrs []any) {
	m.failed.WithLabelValues(reason).Inc()
	m.log.Error("mail delivery failed; giving up", append(attrs, "reason", reason)...)
	m.done()
}

// done removes one message from pending.
func (m *Mailer) done() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pending--
	if m.closed && m.pending == 0 {
		closeOnce(m.drained)
	}
}

// Close stops accepting messages and delivers those queued until ctx ends;
// a message waiting for its retry is tried again at once, and so on up to
// Attempts. Messages still
// undelivered then are counted as failed (reason shutdown), logged, and
// reported in the error.
func (m *Mailer) Close(ctx context.Context) error {
	if m.mode != modeSMTP {
		return nil
	}
	m.mu.Lock()
	if !m.closed {
		m.closed = true
		close(m.closing)
		if m.pending == 0 {
			closeOnce(m.drained)
		}
	}
	m.mu.Unlock()

	select {
	case <-m.drained:
	case <-ctx.Done():
	}
	m.cancel()
	m.wg.Wait()

	m.mu.Lock()
	lost := m.pending
	m.pending = 0
	closeOnce(m.drained)
	m.mu.Unlock()
	if lost > 0 {
		m.failed.WithLabelValues(ReasonShutdown).Add(float64(lost))
		m.log.Error("mail: closed with messages undelivered", "lost", lost)
		return fmt.Errorf("mail: %d messages not delivered before shutdown", lost)
	}
	return nil
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func closeOnce(c chan struct{}) {
	if !isClosed(c) {
		close(c)
	}
}

// initMetrics makes the collectors; every reason starts at zero so that
// rate() and alerts work before the first failure.
func (m *Mailer) initMetrics() {
	m.sent = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "ajrly_mail_sent_total",
		Help: "Mail messages delivered (to the SMTP server, or to the demo outbox).",
	})
	m.failed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ajrly_mail_failed_total",
		Help: "Mail messages given up, by reason: rejected (5xx), attempts_exhausted, queue_full, shutdown.",
	}, []string{"reason"})
	for _, r := range []string{ReasonRejected, ReasonExhausted, ReasonQueueFull, ReasonShutdown} {
		m.failed.WithLabelValues(r)
	}
	m.depth = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "ajrly_mail_queue_depth",
		Help: "Mail messages accepted and not yet delivered or given up, retries included.",
	}, func() float64 {
		m.mu.Lock()
		defer m.mu.Unlock()
		return float64(m.pending)
	})
}

// Describe implements prometheus.Collector.
func (m *Mailer) Describe(ch chan<- *prometheus.Desc) {
	m.sent.Describe(ch)
	m.failed.Describe(ch)
	m.depth.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *Mailer) Collect(ch chan<- prometheus.Metric) {
	m.sent.Collect(ch)
	m.failed.Collect(ch)
	m.depth.Collect(ch)
}

// Package mailtest is a real SMTP server for tests: it listens on a
// loopback port, accepts every message (github.com/emersion/go-smtp over
// TCP) and hands each one to the test taken apart — headers, the plain-text
// and the HTML part — so that a test can follow the link a mail carries.
package mailtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/ajrly/ajrly-auth/internal/mail"
)

// Message is one message the server accepted.
type Message struct {
	From string
	To   []string
	// Header is the message's header; Subject its decoded subject.
	Header  netmail.Header
	Subject string
	// Text and HTML are the decoded bodies of the two parts.
	Text, HTML string
}

// Server is an SMTP server on 127.0.0.1 that accepts every message.
type Server struct {
	// Addr is host:port.
	Addr string

	mu       sync.Mutex
	cond     *sync.Cond
	messages []Message
	taken    []bool
	errs     []error
}

// Start starts a server for the test; it stops when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{}
	s.cond = sync.NewCond(&s.mu)
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{srv: s}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 30*time.Second, 30*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }() // returns when Close runs
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// Mailer returns a mailer for issuer that delivers to the server at once
// (three attempts a second apart), logging to log (nil: nowhere); it is
// closed, delivering what is queued, when the test ends.
func (s *Server) Mailer(t testing.TB, issuer string, log *slog.Logger) *mail.Mailer {
	t.Helper()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := mail.New(mail.Options{SMTPURL: s.URL(), From: "noreply@example.com", Name: "Ajrly", Issuer: issuer,
		Logger: log, Attempts: 3, Backoff: func(int) time.Duration { return time.Second }, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = m.Close(ctx)
	})
	return m
}

// URL is the server's address as an AJRLY_SMTP_URL (no TLS, no auth).
func (s *Server) URL() string { return "smtp://" + s.Addr }

// All returns every message accepted so far, oldest first.
func (s *Server) All() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Count is how many messages were accepted for the address (any, when to
// is empty).
func (s *Server) Count(to string) int {
	n := 0
	for _, m := range s.All() {
		if to == "" || m.IsTo(to) {
			n++
		}
	}
	return n
}

// Next waits (up to 30 s) for the oldest message to the address that no
// earlier Next returned, and fails the test if none comes.
func (s *Server) Next(t testing.TB, to string) Message {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	timer := time.AfterFunc(30*time.Second, func() {
		s.mu.Lock()
		s.cond.Broadcast()
		s.mu.Unlock()
	})
	defer timer.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if len(s.errs) > 0 {
			t.Fatalf("the SMTP server received a message it could not read: %v", s.errs[0])
		}
		for i, m := range s.messages {
			if !s.taken[i] && m.IsTo(to) {
				s.taken[i] = true
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no mail to %s arrived in 30s (%d other messages)", to, len(s.messages))
			return Message{}
		}
		s.cond.Wait()
	}
}

// None fails the test if a message to the address arrived that no Next
// returned, after waiting settle for one to arrive.
func (s *Server) None(t testing.TB, to string, settle time.Duration) {
	t.Helper()
	time.Sleep(settle)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, m := range s.messages {
		if !s.taken[i] && m.IsTo(to) {
			t.Fatalf("unexpected mail to %s: %q", to, m.Subject)
		}
	}
}

// IsTo tells whether the message went to the address.
func (m Message) IsTo(addr string) bool {
	for _, to := range m.To {
		if strings.EqualFold(to, addr) {
			return true
		}
	}
	return false
}

var linkRE = regexp.MustCompile(`https?://[^\s<>"]+`)

// Link returns the first link in the plain-text part whose path contains
// path (e.g. "/email/verify"), failing the test when there is none.
func (m Message) Link(t testing.TB, path string) string {
	t.Helper()
	for _, l := range linkRE.FindAllString(m.Text, -1) {
		if strings.Contains(l, path) {
			return l
		}
	}
	t.Fatalf("mail %q to %v has no link to %s:\n%s", m.Subject, m.To, path, m.Text)
	return ""
}

func (s *Server) add(from string, to []string, raw []byte) {
	m, err := parse(raw)
	m.From, m.To = from, to
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.errs = append(s.errs, err)
	}
	s.messages = append(s.messages, m)
	s.taken = append(s.taken, false)
	s.cond.Broadcast()
}

type session struct {
	srv  *Server
	from string
	to   []string
}

func (c *session) Mail(from string, _ *smtp.MailOptions) error {
	c.from, c.to = from, nil
	return nil
}

func (c *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	c.to = append(c.to, to)
	return nil
}

func (c *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	c.srv.add(c.from, c.to, b)
	return nil
}

func (c *session) Reset()        { c.from, c.to = "", nil }
func (c *session) Logout() error { return nil }

// parse takes a multipart/alternative message apart, decoding its parts'
// transfer encodings.
func parse(raw []byte) (Message, error) {
	var m Message
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return m, fmt.Errorf("read message: %w", err)
	}
	m.Header = msg.Header
	if m.Subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return m, fmt.Errorf("subject: %w", err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		return m, fmt.Errorf("content type %q, want multipart/alternative (%v)", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			return m, nil
		}
		if err != nil {
			return m, err
		}
		var body io.Reader = part
		if strings.EqualFold(part.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			body = quotedprintable.NewReader(part)
		}
		b, err := io.ReadAll(body)
		if err != nil {
			return m, err
		}
		switch ct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type")); ct {
		case "text/plain":
			m.Text = string(b)
		case "text/html":
			m.HTML = string(b)
		}
	}
}

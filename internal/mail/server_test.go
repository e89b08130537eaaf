package mail_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// received is one message the test server accepted.
type received struct {
	from string
	to   []string
	data []byte
	user string // who authenticated, "" for nobody
	tls  bool   // whether the connection was encrypted
}

// smtpServer is a real SMTP server on a loopback port.
type smtpServer struct {
	addr     string
	received chan received

	mu       sync.Mutex
	failures []*smtp.SMTPError // answered to DATA, one by one, before accepting
	attempts int               // DATA commands seen
}

type serverOptions struct {
	user, pass  string      // require AUTH PLAIN with these
	starttls    *tls.Config // offer STARTTLS
	implicitTLS *tls.Config // TLS from the first byte
}

func startSMTP(t *testing.T, o serverOptions) *smtpServer {
	t.Helper()
	s := &smtpServer{received: make(chan received, 100)}
	be := smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		_, isTLS := c.TLSConnectionState()
		return &session{srv: s, opts: o, tls: isTLS}, nil
	})
	srv := smtp.NewServer(be)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.TLSConfig = o.starttls
	var ln net.Listener
	var err error
	if o.implicitTLS != nil {
		ln, err = tls.Listen("tcp", "127.0.0.1:0", o.implicitTLS)
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }() // returns when Close runs
	t.Cleanup(func() { srv.Close() })
	return s
}

// failNext makes the next DATA commands fail with these answers, in order.
func (s *smtpServer) failNext(errs ...*smtp.SMTPError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, errs...)
}

func (s *smtpServer) dataAttempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// next waits for the next message accepted.
func (s *smtpServer) next(t *testing.T) received {
	t.Helper()
	select {
	case r := <-s.received:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("the SMTP server received no message in 10s")
		return received{}
	}
}

// none checks that no further message arrived.
func (s *smtpServer) none(t *testing.T) {
	t.Helper()
	select {
	case r := <-s.received:
		t.Fatalf("unexpected message to %v", r.to)
	default:
	}
}

type session struct {
	srv  *smtpServer
	opts serverOptions
	tls  bool
	user string
	cur  received
}

func (s *session) AuthMechanisms() []string {
	if s.opts.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != s.opts.user || pass != s.opts.pass {
			return smtp.ErrAuthFailed
		}
		s.user = user
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.opts.user != "" && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.cur = received{from: from, user: s.user, tls: s.tls}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.to = append(s.cur.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.srv.mu.Lock()
	s.srv.attempts++
	var fail *smtp.SMTPError
	if len(s.srv.failures) > 0 {
		fail, s.srv.failures = s.srv.failures[0], s.srv.failures[1:]
	}
	s.srv.mu.Unlock()
	if fail != nil {
		return fail
	}
	s.cur.data = b
	s.srv.received <- s.cur
	return nil
}

func (s *session) Reset()        { s.cur = received{} }
func (s *session) Logout() error { return nil }

var (
	tempFailure = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	rejected    = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "no thanks"}
)

// testCert returns a server TLS config with a self-signed certificate for
// 127.0.0.1 and localhost, and a client config that trusts it.
func testCert(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test SMTP server"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
	client = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return server, client
}

// parsed is a received message taken apart.
type parsed struct {
	header     netmail.Header
	text, html string
}

// parse reads a multipart/alternative message with a text/plain and a
// text/html part, decoding their transfer encodings.
func parse(t *testing.T, data []byte) parsed {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("read message: %v\n%s", err, data)
	}
	p := parsed{header: msg.Header}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q, want multipart/alternative (%v)", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var body io.Reader = part
		switch strings.ToLower(part.Header.Get("Content-Transfer-Encoding")) {
		case "quoted-printable":
			body = quotedprintable.NewReader(part)
		case "", "7bit", "8bit":
		default:
			t.Fatalf("unexpected transfer encoding %q", part.Header.Get("Content-Transfer-Encoding"))
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		ct, cp, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if !strings.EqualFold(cp["charset"], "utf-8") {
			t.Errorf("part %s has charset %q, want UTF-8", ct, cp["charset"])
		}
		switch ct {
		case "text/plain":
			p.text = string(b)
		case "text/html":
			p.html = string(b)
		default:
			t.Errorf("unexpected part %s", ct)
		}
	}
	return p
}

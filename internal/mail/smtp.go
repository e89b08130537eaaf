package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	netmail "net/mail"
	"net/textproto"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// smtpSender delivers over SMTP with go-mail, one connection per attempt:
// mail is rare enough that a pool would only hold idle connections open.
type smtpSender struct {
	server  Server
	tls     *tls.Config // nil: the system's roots, the server's host name
	timeout time.Duration
}

// deliver sends e once. Cancelling ctx aborts a delivery in progress.
func (s *smtpSender) deliver(ctx context.Context, from *netmail.Address, e *envelope) error {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(from)
	if err := msg.To(e.to); err != nil {
		return permanent{err}
	}
	msg.Subject(e.subject)
	msg.SetMessageIDWithValue(e.messageID)
	msg.SetDateWithValue(e.date)
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	msg.SetBodyString(gomail.TypeTextPlain, e.text)
	msg.AddAlternativeString(gomail.TypeTextHTML, e.html)

	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.tls != nil {
		tlsConfig = s.tls.Clone()
	}
	if tlsConfig.ServerName == "" {
		tlsConfig.ServerName = s.server.Host
	}
	opts := []gomail.Option{
		gomail.WithPort(s.server.Port),
		gomail.WithTimeout(s.timeout),
		gomail.WithTLSConfig(tlsConfig),
		gomail.WithDialContextFunc(s.dialer(ctx, tlsConfig)),
	}
	if s.server.ImplicitTLS {
		opts = append(opts, gomail.WithSSL())
	} else {
		// STARTTLS when the server offers it. Without it, go-mail still
		// refuses to send a password in the clear except to a loopback host.
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if s.server.Username != "" {
		opts = append(opts,
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthSCRAMSHA1, gomail.SMTPAuthPlain, gomail.SMTPAuthLogin),
			gomail.WithUsername(s.server.Username),
			gomail.WithPassword(s.server.Password))
	}
	c, err := gomail.NewClient(s.server.Host, opts...)
	if err != nil {
		return permanent{err}
	}
	return c.DialAndSendWithContext(ctx, msg)
}

// dialer connects to the server, with TLS from the start for smtps://, and
// closes the connection when ctx ends: go-mail bounds a connection by its
// timeout only, and Close must not wait that long.
func (s *smtpSender) dialer(ctx context.Context, tlsConfig *tls.Config) gomail.DialContextFunc {
	return func(dialCtx context.Context, network, addr string) (net.Conn, error) {
		var conn net.Conn
		var err error
		if s.server.ImplicitTLS {
			d := tls.Dialer{Config: tlsConfig}
			conn, err = d.DialContext(dialCtx, network, addr)
		} else {
			var d net.Dialer
			conn, err = d.DialContext(dialCtx, network, addr)
		}
		if err != nil {
			return nil, err
		}
		context.AfterFunc(ctx, func() { _ = conn.Close() }) // cuts off a delivery past its deadline
		return conn, nil
	}
}

// permanent marks an error that another attempt cannot fix.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// isPermanent reports whether err is a permanent failure: one we marked, or
// a 5xx answer from the server (RFC 5321 section 4.2.1). Anything else (a
// 4xx answer, a network error, a timeout) is worth another attempt.
func isPermanent(err error) bool {
	if errors.As(err, new(permanent)) {
		return true
	}
	var se *gomail.SendError
	if errors.As(err, &se) && se.ErrorCode() >= 500 && se.ErrorCode() < 600 {
		return true
	}
	var te *textproto.Error
	return errors.As(err, &te) && te.Code >= 500 && te.Code < 600
}

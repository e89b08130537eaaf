package mail

import (
	"log/slog"
	"sync"
	"time"
)

// OutboxSize is how many messages a LogSender keeps.
const OutboxSize = 50

// Sent is a message delivered to a LogSender.
type Sent struct {
	To, Subject, Template string
	Text, HTML            string
	MessageID             string // without the angle brackets
	Date                  time.Time
}

// A LogSender is demo mode's mail server: it logs each message, its
// plain-text body included so that a newcomer can follow the link from the
// log, and keeps the last 50 for the /demo/outbox page. It is safe for
// concurrent use. Never use it outside demo mode: its log holds links.
type LogSender struct {
	log  *slog.Logger
	mu   sync.Mutex
	sent []Sent // oldest first, at most OutboxSize
}

// NewLogSender returns a LogSender writing to log.
func NewLogSender(log *slog.Logger) *LogSender {
	return &LogSender{log: log}
}

func (l *LogSender) deliver(e *envelope) {
	s := Sent{
		To: e.to, Subject: e.subject, Template: e.template,
		Text: e.text, HTML: e.html, MessageID: e.messageID, Date: e.date,
	}
	l.mu.Lock()
	if len(l.sent) == OutboxSize {
		l.sent = append(l.sent[:0], l.sent[1:]...)
	}
	l.sent = append(l.sent, s)
	l.mu.Unlock()
	l.log.Info("mail (demo mode: not sent, see /demo/outbox)", "to", s.To, "subject", s.Subject, "template", s.Template, "text", s.Text)
}

// Outbox returns the messages kept, newest first.
func (l *LogSender) Outbox() []Sent {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Sent, len(l.sent))
	for i, s := range l.sent {
		out[len(l.sent)-1-i] = s
	}
	return out
}

// Package fields holds the typed problems of a form or a request: each
// names the field it is about and says what is wrong in a sentence-to-be,
// so that every surface shows it its own way — next to the field on a
// page, "field: message" on the command line, an RFC 7591 error in JSON —
// and nobody parses a message back into its parts.
package fields

import (
	"fmt"
	"strings"
)

// Error is one problem: the field it is about ("" for the whole form), what
// is wrong (lower case, no final stop: "at most 80 characters"), and, where
// a protocol names one, its error code (e.g. RFC 7591's
// invalid_redirect_uri).
type Error struct {
	Field, Message, Code string
}

func (e Error) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// Sentence is the message as a sentence, for a page: capitalised, with a
// final stop.
func (e Error) Sentence() string {
	return Sentence(e.Message)
}

// Sentence capitalises s and ends it with a stop.
func Sentence(s string) string {
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// Errors are all the problems found, in the order found.
type Errors []Error

// Error joins the problems, one a line.
func (e Errors) Error() string {
	lines := make([]string, len(e))
	for i, p := range e {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns every problem, so errors.As finds the first.
func (e Errors) Unwrap() []error {
	out := make([]error, len(e))
	for i, p := range e {
		out[i] = p
	}
	return out
}

// Add records a problem of field, unless the field has one already: one
// problem a field is what a person can act on.
func (e *Errors) Add(field, format string, args ...any) {
	e.AddCode("", field, format, args...)
}

// AddCode is Add with a protocol error code.
func (e *Errors) AddCode(code, field, format string, args ...any) {
	if e.Has(field) {
		return
	}
	*e = append(*e, Error{Field: field, Message: fmt.Sprintf(format, args...), Code: code})
}

// Has reports whether field has a problem.
func (e Errors) Has(field string) bool {
	for _, p := range e {
		if p.Field == field {
			return true
		}
	}
	return false
}

// Err returns e as an error, nil when there is no problem.
func (e Errors) Err() error {
	if len(e) == 0 {
		return nil
	}
	return e
}

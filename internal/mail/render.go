package mail

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"path"
	"sort"
	"strings"
	texttemplate "text/template"
)

// embedded holds, under templates/, the messages, two files each: NAME.txt, a text/template
// for the plain-text part that also defines the subject
// ({{define "subject"}}…{{end}}), and NAME.html, an html/template for the
// HTML part, so that every value in it is escaped. Both see a view:
// .Name (the issuer's display name), .Issuer (its URL), .To (the
// recipient's address) and .Data (what the caller put in Message.Data).
//
//go:embed templates/*.txt templates/*.html
var embedded embed.FS

// Templates returns the messages shipped with the binary, NAME.txt and
// NAME.html at the root.
func Templates() fs.FS {
	sub, err := fs.Sub(embedded, "templates")
	if err != nil {
		panic(err) // the directory is embedded at build time
	}
	return sub
}

// view is what a template sees.
type view struct {
	Name   string
	Issuer string
	To     string
	Data   any
}

// message is one parsed pair of templates.
type message struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// rendered is a message ready to send.
type rendered struct {
	subject, text, html string
}

// parseTemplates reads every NAME.txt and NAME.html at the root of fsys.
// A message missing one of its parts, or its subject, is an error.
func parseTemplates(fsys fs.FS) (map[string]message, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("mail templates: %w", err)
	}
	names := map[string]bool{}
	for _, e := range entries {
		if ext := path.Ext(e.Name()); !e.IsDir() && (ext == ".txt" || ext == ".html") {
			names[strings.TrimSuffix(e.Name(), ext)] = true
		}
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)

	out := map[string]message{}
	for _, name := range sorted {
		txt, err := fs.ReadFile(fsys, name+".txt")
		if err != nil {
			return nil, fmt.Errorf("mail template %s: the plain-text part %s.txt: %w", name, name, err)
		}
		html, err := fs.ReadFile(fsys, name+".html")
		if err != nil {
			return nil, fmt.Errorf("mail template %s: the HTML part %s.html: %w", name, name, err)
		}
		var m message
		if m.text, err = texttemplate.New(name + ".txt").Option("missingkey=error").Parse(string(txt)); err != nil {
			return nil, fmt.Errorf("mail template %s: %w", name, err)
		}
		if m.text.Lookup("subject") == nil {
			return nil, fmt.Errorf(`mail template %s: %s.txt defines no subject ({{define "subject"}}…{{end}})`, name, name)
		}
		if m.html, err = htmltemplate.New(name + ".html").Option("missingkey=error").Parse(string(html)); err != nil {
			return nil, fmt.Errorf("mail template %s: %w", name, err)
		}
		out[name] = m
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("mail templates: none found")
	}
	return out, nil
}

// render executes the message's templates. The subject is one line:
// whitespace, newlines included, is collapsed.
func (m message) render(v view) (rendered, error) {
	var subj, txt, html bytes.Buffer
	if err := m.text.ExecuteTemplate(&subj, "subject", v); err != nil {
		return rendered{}, err
	}
	if err := m.text.Execute(&txt, v); err != nil {
		return rendered{}, err
	}
	if err := m.html.Execute(&html, v); err != nil {
		return rendered{}, err
	}
	r := rendered{subject: strings.Join(strings.Fields(subj.String()), " "), text: txt.String(), html: html.String()}
	if r.subject == "" {
		return rendered{}, fmt.Errorf("the subject is empty")
	}
	return r, nil
}

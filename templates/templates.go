// Package templates holds the HTML pages of the sign-in, consent and
// account screens, embedded in the binary.
package templates

import "embed"

// FS holds every page and the shared layout.
//
//go:embed *.html
var FS embed.FS

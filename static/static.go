// Package static holds the stylesheet and small assets of the browser
// pages, embedded in the binary.
package static

import "embed"

// FS holds the assets, served under /static/.
//
//go:embed *.css *.svg *.js
var FS embed.FS

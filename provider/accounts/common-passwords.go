package accounts

import (
	_ "embed"
	"strings"
	"sync"
)

// commonPasswordList is common-passwords.txt: the most common passwords
// long enough for the length rule, lower case, one a line, made by
// common-passwords_gen.go from zxcvbn's list of leaked passwords (see
// there for how to make it again).
//
//go:embed common-passwords.txt
var commonPasswordList string

// commonPasswords is the list as a set, built once, on first use: a
// lookup is one hash of the lower-cased password (BenchmarkIsCommonPassword).
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, strings.Count(commonPasswordList, "\n"))
	for line := range strings.Lines(commonPasswordList) {
		line = strings.TrimRight(line, "\r\n")
		if line != "" && !strings.HasPrefix(line, "#") {
			set[line] = struct{}{}
		}
	}
	return set
})

// isCommonPassword tells whether password is on the list, ignoring case
// and the spaces around it.
func isCommonPassword(password string) bool {
	_, ok := commonPasswords()[strings.ToLower(strings.TrimSpace(password))]
	return ok
}

//go:build ignore

// common-passwords_gen writes common-passwords.txt, the list of common
// passwords the password policy refuses. Its source is the password list
// of zxcvbn (Dropbox, MIT licence: the 30,000 most common passwords of
// leaked password sets, most common first) as Debian's python3-zxcvbn
// package ships it:
//
//	apt-get download python3-zxcvbn && dpkg-deb -x python3-zxcvbn_*.deb x
//	go run common-passwords_gen.go x/usr/lib/python3/dist-packages/zxcvbn/frequency_lists.py > common-passwords.txt
//
// Only passwords the length rule lets through matter (at least
// MinPasswordLength characters), and few of the list are that long, so
// it adds what people make of the most common short ones to reach the
// length — "password" + "123", "monkey" + "2024!" — and keyboard walks
// and repetitions. Everything is lower case: the lookup ignores case.
package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strings"
	"unicode/utf8"
)

const minLength = 10 // accounts.MinPasswordLength

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run common-passwords_gen.go path/to/zxcvbn/frequency_lists.py")
		os.Exit(2)
	}
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	m := regexp.MustCompile(`"passwords": "([^"]*)"`).FindSubmatch(raw)
	if m == nil {
		fmt.Fprintln(os.Stderr, "no passwords list in", os.Args[1])
		os.Exit(1)
	}
	ranked := strings.Split(string(m[1]), ",")

	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		p = strings.ToLower(p)
		if utf8.RuneCountInString(p) < minLength || seen[p] || strings.ContainsAny(p, "\n\r") {
			return
		}
		seen[p] = true
		out = append(out, p)
	}
	// The list's own long passwords, most common first.
	for _, p := range ranked {
		add(p)
	}
	// The most common shorter ones made long enough the usual ways.
	suffixes := []string{"1", "12", "123", "1234", "12345", "!", "1!", "123!", "01", "2024", "2025", "2026"}
	for _, p := range ranked[:600] {
		n := utf8.RuneCountInString(p)
		if n < 5 || n >= minLength {
			continue
		}
		for _, s := range suffixes {
			add(p + s)
		}
		add(p + p)
	}
	for _, word := range []string{"password", "passw0rd", "p@ssword", "p@ssw0rd", "welcome", "letmein", "iloveyou", "qwerty", "admin",
		"changeme", "secret", "dragon", "monkey", "master", "sunshine", "princess", "football", "baseball", "superman", "trustno1"} {
		for _, s := range append(suffixes, "!!", "?", ".", "12!", "123456789", "1234567890", "!@#", "!@#$") {
			add(word + s)
		}
	}
	// Keyboard walks, sequences and repetitions.
	rows := []string{"1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "qwertzuiop", "azertyuiop", "0987654321", "poiuytrewq",
		"lkjhgfdsa", "mnbvcxz", "1qaz2wsx3edc4rfv", "1q2w3e4r5t6y7u8i9o0p", "q1w2e3r4t5y6u7i8o9p0", "qazwsxedcrfvtgb", "zaq12wsxcde3",
		"abcdefghijklmnopqrstuvwxyz", "zyxwvutsrqponmlkjihgfedcba"}
	for _, r := range rows {
		for n := minLength; n <= len(r); n++ {
			add(r[:n])
		}
		add(r + "!")
		add(r + "1")
	}
	for _, r := range []string{"qwertyuiop", "asdfghjkl", "zxcvbnm", "qwerty", "asdf", "zxcv", "abc", "qwe", "asd", "zxc", "1q2w3e", "q1w2e3"} {
		add(r + "123")
		add(r + "1234")
		add(r + "12345")
		add(r + "123456")
		add("123" + r)
		add("1234" + r)
		add(r + r)
	}
	for _, c := range "0123456789abcdefghijklmnopqrstuvwxyz!*" {
		for n := minLength; n <= 16; n++ {
			add(strings.Repeat(string(c), n))
		}
	}
	for _, unit := range []string{"12", "123", "1234", "12345", "ab", "abc", "qwe", "asd", "xo", "01", "69", "00", "11", "007", "1212", "2468", "13579"} {
		for n := 2; len(unit)*n <= 20; n++ {
			add(strings.Repeat(unit, n))
		}
	}
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintf(w, "# The most common passwords of %d characters or more, lower case, one a line: made by\n", minLength)
	fmt.Fprintln(w, "# common-passwords_gen.go from zxcvbn's password list (MIT licence, Debian's python3-zxcvbn).")
	for _, p := range out {
		fmt.Fprintln(w, p)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

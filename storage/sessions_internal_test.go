package storage

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTruncateCutsByRunesIntoValidUTF8(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		n        int
		want     string
	}{
		{"a short value is kept", "Mozilla/5.0", 256, "Mozilla/5.0"},
		{"a long value is cut at n characters", strings.Repeat("a", 300), 256, strings.Repeat("a", 256)},
		{"a cut never splits a rune", strings.Repeat("a", 255) + strings.Repeat("é", 23), 256, strings.Repeat("a", 255) + "é"},
		{"multi-byte characters count once", strings.Repeat("日", 300), 256, strings.Repeat("日", 256)},
		{"invalid bytes become U+FFFD", "Mozilla \xff\xfe/5.0", 256, "Mozilla \uFFFD/5.0"},
		{"NUL is dropped", "a\x00b", 256, "ab"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := truncate(tc.in, tc.n)
			if got != tc.want {
				t.Errorf("truncate = %q, want %q", got, tc.want)
			}
			if !utf8.ValidString(got) {
				t.Errorf("truncate = %q is not valid UTF-8", got)
			}
		})
	}
}

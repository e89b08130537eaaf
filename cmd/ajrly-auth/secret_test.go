package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ajrly/ajrly-auth/config"
)

func TestSystemSecretFileOthersCanReadIsRefused(t *testing.T) {
	t.Parallel()
	const secret = "a-system-secret-of-at-least-32-bytes-long"
	tests := []struct {
		name string
		mode os.FileMode
		ok   bool
	}{
		{"a file only its owner can read is used", 0o600, true},
		{"a read-only file of its owner is used", 0o400, true},
		{"a file the group can read is refused", 0o640, false},
		{"a file everyone can read is refused", 0o644, false},
		{"a file others can write is refused", 0o602, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db := filepath.Join(t.TempDir(), "ajrly.db")
			path := db + ".secret"
			if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tc.mode); err != nil { // WriteFile's mode is masked by the umask
				t.Fatal(err)
			}
			got, err := systemSecret(config.Config{DSN: "sqlite://" + db}, slog.New(slog.DiscardHandler))
			if tc.ok {
				if err != nil || string(got) != secret {
					t.Fatalf("got %q, %v; want the file's secret", got, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("a secret file of mode %04o was used", tc.mode)
			}
			for _, want := range []string{path, "chmod 600"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if strings.Contains(err.Error(), secret) {
				t.Error("the error shows the secret")
			}
			if info, _ := os.Stat(path); info.Mode().Perm() != tc.mode {
				t.Errorf("the file's mode changed to %04o", info.Mode().Perm())
			}
		})
	}
}

func TestServeRefusesASecretFileOthersCanRead(t *testing.T) {
	t.Parallel()
	db := newSQLite(t)
	path := strings.TrimPrefix(db.dsn, "sqlite://") + ".secret"
	if err := os.WriteFile(path, []byte("a-system-secret-of-at-least-32-bytes-long\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, db.env, "", "serve", "--addr", "127.0.0.1:0")
	wantCode(t, r, 1)
	wantContains(t, "stderr", r.stderr, path, "chmod 600")
}

package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/provider/accounts"
	"github.com/ajrly/ajrly-auth/storage"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

func TestMigrate(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, db database) {
		version := fmt.Sprintf("schema version %d", storage.SchemaVersion())
		steps := []struct {
			name string
			want []string
		}{
			{"a fresh database is migrated", []string{"Applied migrations", version}},
			{"a second run finds the database up to date", []string{"The database is up to date", version}},
		}
		for _, step := range steps {
			t.Run(step.name, func(t *testing.T) {
				r := db.run(t, "migrate")
				wantCode(t, r, 0)
				wantContains(t, "stdout", r.stdout, step.want...)
			})
		}
	})
}

// adminCommands are command lines that need a database at this binary's
// schema version and would otherwise succeed.
var adminCommands = [][]string{
	{"janitor"},
	{"users", "list"},
	{"users", "create", "--email", "alice@example.com", "--password", "correct-horse-battery"},
	{"clients", "list"},
	{"clients", "list", "--json"},
	{"clients", "create", "--name", "App", "--redirect-uri", "https://app.example.com/cb"},
	{"clients", "delete", "cl_unknown"},
	{"serve", "--addr", "127.0.0.1:0", "--auto-migrate=false"},
}

func TestUnmigratedDatabaseNeedsMigrate(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, db database) {
		for _, args := range adminCommands {
			t.Run(strings.Join(args, " ")+" asks to run migrate", func(t *testing.T) {
				r := db.run(t, args...)
				wantCode(t, r, 1)
				// SQLite: no file yet; PostgreSQL: an empty schema at version 0.
				wantContains(t, "stderr", r.stderr, "run `ajrly-auth migrate`")
			})
		}
	})
}

func TestNewerSchemaIsRefused(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, db database) {
		db.migrate(t)
		db.withStore(t, func(s *storage.Store) {
			err := s.DB().Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
				999, "from the future", time.Now().UTC()).Error
			if err != nil {
				t.Fatalf("insert schema version 999: %v", err)
			}
		})
		commands := append([][]string{{"migrate"}, {"serve", "--addr", "127.0.0.1:0"}}, adminCommands...)
		for _, args := range commands {
			t.Run(strings.Join(args, " ")+" asks for a newer ajrly-auth", func(t *testing.T) {
				r := db.run(t, args...)
				wantCode(t, r, 1)
				wantContains(t, "stderr", r.stderr, "schema version 999", "run a newer ajrly-auth")
			})
		}
	})
}

var createdUser = regexp.MustCompile(`^Created user (usr_\w+) \(([^)]+)\)\.\n(.*)\n$`)

func TestUsersCreate(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, db database) {
		db.migrate(t)
		const (
			alicePassword = "alice-password-123"
			bobPassword   = "bob's password, typed"
		)
		var printed []string // every output, to check no password is in any

		r := db.run(t, "users", "create", "--email", "Alice@Example.com", "--password", alicePassword, "--name", "Alice Liddell")
		printed = append(printed, r.all())
		wantCode(t, r, 0)
		m := createdUser.FindStringSubmatch(r.stdout)
		if m == nil {
			t.Fatalf("stdout does not show the new user's id:\n%s", r.stdout)
		}
		aliceID := m[1]
		if m[2] != "alice@example.com" {
			t.Errorf("the email is shown as %q, want it normalized to alice@example.com", m[2])
		}
		// Without --org, a personal organization they own: nobody is in none.
		if !strings.HasPrefix(m[3], "They own their personal organization Alice Liddell's organization (org_") {
			t.Errorf("stdout does not name the personal organization:\n%s", r.stdout)
		}
		db.withStore(t, func(s *storage.Store) {
			orgs, err := s.UserOrganizations(t.Context(), aliceID)
			if err != nil || len(orgs) != 1 || orgs[0].Role != storage.RoleOwner || orgs[0].Name != "Alice Liddell's organization" {
				t.Errorf("alice's organizations: %+v, %v; want her personal one, as owner", orgs, err)
			}
		})

		t.Run("the same email again is refused", func(t *testing.T) {
			r := db.run(t, "users", "create", "--email", "ALICE@example.com", "--password", "another-password-456")
			printed = append(printed, r.all())
			wantCode(t, r, 1)
			wantContains(t, "stderr", r.stderr, "a user with the email alice@example.com already exists")
			if r.stdout != "" {
				t.Errorf("stdout is not empty:\n%s", r.stdout)
			}
		})

		t.Run("--password - reads the password from standard input", func(t *testing.T) {
			r := runCLI(t, db.env, bobPassword+"\r\n", "users", "create", "--email", "bob@example.com", "--password", "-")
			printed = append(printed, r.all())
			wantCode(t, r, 0)
			if !createdUser.MatchString(r.stdout) {
				t.Errorf("stdout does not show the new user:\n%s", r.stdout)
			}
			db.withStore(t, func(s *storage.Store) {
				if _, err := accounts.New(s, accounts.Config{}).Authenticate(t.Context(), "bob@example.com", bobPassword); err != nil {
					t.Errorf("bob cannot sign in with the password given on standard input: %v", err)
				}
			})
		})

		t.Run("users list shows the users", func(t *testing.T) {
			r := db.run(t, "users", "list")
			printed = append(printed, r.all())
			wantCode(t, r, 0)
			wantContains(t, "stdout", r.stdout, "EMAIL", aliceID, "alice@example.com", "Alice Liddell", "bob@example.com")
			if strings.Contains(r.stdout, "argon2") {
				t.Errorf("users list shows a password hash:\n%s", r.stdout)
			}
		})

		db.withStore(t, func(s *storage.Store) {
			if _, err := accounts.New(s, accounts.Config{}).Authenticate(t.Context(), "alice@example.com", alicePassword); err != nil {
				t.Errorf("alice cannot sign in with her password: %v", err)
			}
		})
		for _, out := range printed {
			for _, pw := range []string{alicePassword, bobPassword} {
				if strings.Contains(out, pw) {
					t.Errorf("a command printed the password %q:\n%s", pw, out)
				}
			}
		}
	})
}

func TestUsersCreateWithAnOrganization(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, db database) {
		db.migrate(t)
		r := db.run(t, "users", "create", "--email", "owner@example.com", "--password", "owner-password-1", "--org", "Acme Corp")
		wantCode(t, r, 0)
		wantContains(t, "stdout", r.stdout, "the new organization Acme Corp", "as its owner")
		r = db.run(t, "users", "create", "--email", "member@example.com", "--password", "member-password-1", "--org", "acme corp")
		wantCode(t, r, 0)
		wantContains(t, "stdout", r.stdout, "the organization Acme Corp", "as a member")
		r = db.run(t, "orgs", "list")
		wantCode(t, r, 0)
		wantContains(t, "stdout", r.stdout, "NAME", "Acme Corp")
		if !regexp.MustCompile(`Acme Corp\s+2\s`).MatchString(r.stdout) {
			t.Errorf("orgs list does not count two members:\n%s", r.stdout)
		}
		db.withStore(t, func(s *storage.Store) {
			u, err := s.UserByEmail(t.Context(), "member@example.com")
			if err != nil {
				t.Fatal(err)
			}
			orgs, _ := s.UserOrganizations(t.Context(), u.ID)
			if len(orgs) != 1 || orgs[0].Role != storage.RoleMember {
				t.Errorf("the member's organizations: %+v", orgs)
			}
		})
		// A refused user joins nothing and creates nothing.
		r = db.run(t, "users", "create", "--email", "owner@example.com", "--password", "owner-password-1", "--org", "Brand New")
		wantCode(t, r, 1)
		if out := db.run(t, "orgs", "list").stdout; strings.Contains(out, "Brand New") {
			t.Errorf("a refused user created an organization:\n%s", out)
		}
		r = db.run(t, "orgs", "frobnicate")
		wantCode(t, r, 2)
	})
}

func TestUsersCreateRejectsBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		email    string // --email, unless empty
		password string // --password, unless empty
		stdin    string
		want     string
	}{
		{name: "a missing email", password: "long-enough-password", want: "--email is required"},
		{name: "a missing password", email: "alice@example.com", want: "--password is required"},
		{name: "an empty line on standard input is a missing password", email: "alice@example.com", password: "-", stdin: "\n", want: "--password is required"},
		{name: "a password of nine characters", email: "alice@example.com", password: "123456789", want: "--password must be at least 10 characters"},
		{name: "a short password from standard input", email: "alice@example.com", password: "-", stdin: "shorty\n", want: "--password must be at least 10 characters"},
		{name: "a password of five two-byte letters is under 10 characters", email: "alice@example.com", password: "ééééé", want: "--password must be at least 10 characters"},
		{name: "a password equal to the email", email: "alice@example.com", password: "alice@example.com", want: "--password must not be the email address"},
		{name: "a password equal to the email in other case", email: "alice@example.com", password: "ALICE@Example.COM", want: "--password must not be the email address"},
		{name: "an email without an at sign", email: "alice.example.com", password: "long-enough-password", want: `--email "alice.example.com" is not an email address`},
		{name: "an email with a space", email: "alice @example.com", password: "long-enough-password", want: `--email "alice @example.com" is not an email address`},
	}
	forEachBackend(t, func(t *testing.T, db database) {
		db.migrate(t)
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				args := []string{"users", "create"}
				if tc.email != "" {
					args = append(args, "--email", tc.email)
				}
				if tc.password != "" {
					args = append(args, "--password", tc.password)
				}
				// Rejected or not, the row leaves no user behind for the next.
				defer db.withStore(t, func(s *storage.Store) {
					users, err := s.ListUsers(t.Context())
					if err != nil {
						t.Errorf("list users: %v", err)
						return
					}
					for _, u := range users {
						t.Errorf("the rejected command created the user %s", u.Email)
						if err := s.DB().Exec("DELETE FROM users WHERE id = ?", u.ID).Error; err != nil {
							t.Errorf("delete user: %v", err)
						}
					}
				})
				r := runCLI(t, db.env, tc.stdin, args...)
				wantCode(t, r, 2)
				wantContains(t, "stderr", r.stderr, tc.want, usageHead)
				secret := strings.TrimSpace(tc.stdin)
				if tc.password != "-" {
					secret = tc.password
				}
				if secret != "" && strings.Contains(r.all(), secret) {
					t.Errorf("the output shows the password %q:\n%s", secret, r)
				}
			})
		}
	})
}

// TestUsageErrorsComeBeforeTheDatabase checks that a wrong command line is
// reported as such (exit 2) whatever the state of the database, and does
// not create the database file (the default DSN is sqlite://ajrly.db in
// the working directory).
func TestUsageErrorsComeBeforeTheDatabase(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"users create without flags", []string{"users", "create"}, "--email is required"},
		{"users create with a short password", []string{"users", "create", "--email", "alice@example.com", "--password", "short"}, "at least 10 characters"},
		{"clients create without flags", []string{"clients", "create"}, "client_name: enter your app's name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db := newSQLite(t)
			r := db.run(t, tc.args...)
			if r.code != 2 {
				t.Errorf("want exit 2 with %q, got %s", tc.want, r)
			}
			if path := strings.TrimPrefix(db.dsn, "sqlite://"); fileExists(t, path) {
				t.Errorf("a wrong command line created the database %s", path)
			}
		})
	}
}

var (
	textClientID     = regexp.MustCompile(`(?m)^  client_id:\s+(cl_\w+)$`)
	textClientSecret = regexp.MustCompile(`(?m)^  client_secret:\s+(\S+)$`)
)

// clientRow is a client as clients list --json shows it.
type clientRow struct {
	ClientID     string   `json:"client_id"`
	Name         string   `json:"client_name"`
	Public       bool     `json:"public"`
	GrantTypes   []string `json:"grant_types"`
	RedirectURIs []string `json:"redirect_uris"`
	Scope        string   `json:"scope"`
	CreatedAt    string   `json:"created_at"`
}

func listClients(t *testing.T, db database) []clientRow {
	t.Helper()
	r := db.run(t, "clients", "list", "--json")
	wantCode(t, r, 0)
	var rows []clientRow
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatalf("clients list --json: %v\n%s", err, r.stdout)
	}
	return rows
}

func TestClients(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, db database) {
		db.migrate(t)
		checkSecret := func(t *testing.T, id, secret string) {
			t.Helper()
			db.withStore(t, func(s *storage.Store) {
				c, err := s.FindClient(t.Context(), id)
				if err != nil {
					t.Fatalf("find client %s: %v", id, err)
				}
				if !storage.DigestEqual(c.SecretDigest, secret) {
					t.Errorf("the printed secret does not match client %s's stored digest", id)
				}
				if storage.DigestEqual(c.SecretDigest, secret+"x") {
					t.Errorf("client %s accepts a wrong secret", id)
				}
			})
		}

		// A confidential client, in text.
		r := db.run(t, "clients", "create", "--name", "Web App",
			"--redirect-uri", "https://app.example.com/cb", "--redirect-uri", "http://127.0.0.1:8000/cb",
			"--scope", "openid email read", "--grant-type", "authorization_code", "--grant-type", "refresh_token")
		wantCode(t, r, 0)
		wantContains(t, "stdout", r.stdout, `Created client "Web App".`, "shown only now")
		idMatch, secretMatch := textClientID.FindStringSubmatch(r.stdout), textClientSecret.FindStringSubmatch(r.stdout)
		if idMatch == nil || secretMatch == nil {
			t.Fatalf("stdout does not show client_id and client_secret:\n%s", r.stdout)
		}
		webID, webSecret := idMatch[1], secretMatch[1]
		if strings.Contains(r.stderr, webSecret) {
			t.Errorf("the secret is also on stderr:\n%s", r.stderr)
		}
		t.Run("the secret printed as text is the client's", func(t *testing.T) { checkSecret(t, webID, webSecret) })

		// A client for machines, in JSON.
		r = db.run(t, "clients", "create", "--name", "Backend", "--grant-type", "client_credentials", "--scope", "read write", "--json")
		wantCode(t, r, 0)
		var created map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &created); err != nil {
			t.Fatalf("clients create --json: %v\n%s", err, r.stdout)
		}
		backendID, _ := created["client_id"].(string)
		backendSecret, _ := created["client_secret"].(string)
		if backendID == "" || backendSecret == "" {
			t.Fatalf("clients create --json lacks client_id or client_secret:\n%s", r.stdout)
		}
		if diff := cmp.Diff(map[string]any{
			"client_id":                  backendID,
			"client_secret":              backendSecret,
			"client_name":                "Backend",
			"grant_types":                []any{"client_credentials"},
			"redirect_uris":              []any{},
			"scope":                      "read write",
			"token_endpoint_auth_method": "client_secret_basic",
			"first_party":                false,
			"resource_server":            false,
			"access_token_format":        "opaque",
			"post_logout_redirect_uris":  []any{},
		}, created); diff != "" {
			t.Errorf("clients create --json (-want +got):\n%s", diff)
		}
		t.Run("the secret printed as JSON is the client's", func(t *testing.T) { checkSecret(t, backendID, backendSecret) })

		// A public client, in JSON and in text.
		r = db.run(t, "clients", "create", "--name", "Phone App", "--redirect-uri", "com.example.app:/cb", "--public", "--json")
		wantCode(t, r, 0)
		created = nil
		if err := json.Unmarshal([]byte(r.stdout), &created); err != nil {
			t.Fatalf("clients create --public --json: %v\n%s", err, r.stdout)
		}
		phoneID, _ := created["client_id"].(string)
		if _, ok := created["client_secret"]; ok {
			t.Errorf("a public client has a client_secret:\n%s", r.stdout)
		}
		if created["token_endpoint_auth_method"] != "none" {
			t.Errorf("a public client's token_endpoint_auth_method is %v, want none", created["token_endpoint_auth_method"])
		}
		r = db.run(t, "clients", "create", "--name", "SPA", "--redirect-uri", "http://localhost:3000/cb", "--public")
		wantCode(t, r, 0)
		wantContains(t, "stdout", r.stdout, "public client: no secret")
		if textClientSecret.MatchString(r.stdout) {
			t.Errorf("a public client is shown a secret:\n%s", r.stdout)
		}
		spaMatch := textClientID.FindStringSubmatch(r.stdout)
		if spaMatch == nil {
			t.Fatalf("stdout does not show the client_id:\n%s", r.stdout)
		}
		spaID := spaMatch[1]
		db.withStore(t, func(s *storage.Store) {
			for _, id := range []string{phoneID, spaID} {
				c, err := s.FindClient(t.Context(), id)
				if err != nil {
					t.Fatalf("find client %s: %v", id, err)
				}
				if !c.Public || len(c.SecretDigest) != 0 {
					t.Errorf("client %s: public %v with a %d-byte secret digest, want public with none", id, c.Public, len(c.SecretDigest))
				}
			}
		})

		t.Run("clients list shows every client", func(t *testing.T) {
			r := db.run(t, "clients", "list")
			wantCode(t, r, 0)
			wantContains(t, "stdout", r.stdout, "CLIENT ID", webID, "Web App", backendID, "Backend", phoneID, "Phone App", spaID,
				"https://app.example.com/cb http://127.0.0.1:8000/cb", "confidential", "public")
			for _, secret := range []string{webSecret, backendSecret} {
				if strings.Contains(r.all(), secret) {
					t.Errorf("clients list shows a secret:\n%s", r.stdout)
				}
			}

			rows := listClients(t, db)
			got := map[string]clientRow{}
			for _, row := range rows {
				if row.CreatedAt == "" {
					t.Errorf("client %s has no created_at", row.ClientID)
				}
				row.CreatedAt = ""
				got[row.ClientID] = row
			}
			want := map[string]clientRow{
				webID: {ClientID: webID, Name: "Web App", GrantTypes: []string{"authorization_code", "refresh_token"},
					RedirectURIs: []string{"https://app.example.com/cb", "http://127.0.0.1:8000/cb"}, Scope: "openid email read"},
				backendID: {ClientID: backendID, Name: "Backend", GrantTypes: []string{"client_credentials"},
					RedirectURIs: []string{}, Scope: "read write"},
				phoneID: {ClientID: phoneID, Name: "Phone App", Public: true, GrantTypes: []string{"authorization_code", "refresh_token"},
					RedirectURIs: []string{"com.example.app:/cb"}, Scope: "openid profile email offline_access read write"},
				spaID: {ClientID: spaID, Name: "SPA", Public: true, GrantTypes: []string{"authorization_code", "refresh_token"},
					RedirectURIs: []string{"http://localhost:3000/cb"}, Scope: "openid profile email offline_access read write"},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("clients list --json (-want +got):\n%s", diff)
			}
		})

		t.Run("clients delete removes the client, flags after the id", func(t *testing.T) {
			env := db.envWithout("AJRLY_DSN")
			r := runCLI(t, env, "", "clients", "delete", webID, "--dsn", db.dsn)
			wantCode(t, r, 0)
			wantContains(t, "stdout", r.stdout, "Deleted client "+webID)

			r = runCLI(t, env, "", "clients", "delete", webID, "--dsn", db.dsn)
			wantCode(t, r, 1)
			wantContains(t, "stderr", r.stderr, fmt.Sprintf("no client has the id %q", webID))
			if strings.Contains(r.stderr, "Usage:") {
				t.Errorf("an unknown id comes with the usage text:\n%s", r.stderr)
			}

			var ids []string
			for _, row := range listClients(t, db) {
				ids = append(ids, row.ClientID)
			}
			slices.Sort(ids)
			want := []string{backendID, phoneID, spaID}
			slices.Sort(want)
			if diff := cmp.Diff(want, ids); diff != "" {
				t.Errorf("clients after the delete (-want +got):\n%s", diff)
			}
		})
	})
}

func TestClientsCreateRejectsBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{
			name: "an unknown scope",
			args: []string{"--name", "App", "--redirect-uri", "https://app.example.com/cb", "--scope", "openid admin"},
			want: `scope: "admin" is not supported`,
		},
		{
			name: "an http redirect on a host that is not loopback",
			args: []string{"--name", "App", "--redirect-uri", "http://app.example.com/cb"},
			want: `redirect_uris: "http://app.example.com/cb" uses http on a host that is not loopback`,
		},
		{
			name: "a redirect with a fragment",
			args: []string{"--name", "App", "--redirect-uri", "https://app.example.com/cb#done"},
			want: `redirect_uris: "https://app.example.com/cb#done" must not have a fragment`,
		},
		{
			name: "a relative redirect",
			args: []string{"--name", "App", "--redirect-uri", "/cb"},
			want: `redirect_uris: "/cb" is not an absolute URI`,
		},
		{
			name: "a confidential client with a custom scheme redirect",
			args: []string{"--name", "App", "--redirect-uri", "com.example.app:/cb"},
			want: `redirect_uris: "com.example.app:/cb" uses the scheme "com.example.app"`,
		},
		{
			name: "authorization_code without a redirect",
			args: []string{"--name", "App"},
			want: "redirect_uris: at least one is required for the authorization code grant",
		},
		{
			name: "an unknown grant type",
			args: []string{"--name", "App", "--grant-type", "password"},
			want: `grant_types: "password" is not supported`,
		},
		{
			name: "refresh_token without authorization_code",
			args: []string{"--name", "App", "--grant-type", "refresh_token", "--grant-type", "client_credentials"},
			want: "grant_types: refresh_token needs authorization_code",
		},
		{
			name: "a public client with client_credentials",
			args: []string{"--name", "App", "--public", "--grant-type", "client_credentials"},
			want: "grant_types: client_credentials needs a client that authenticates",
		},
		{
			name: "a missing name",
			args: []string{"--redirect-uri", "https://app.example.com/cb"},
			want: "client_name: enter your app's name",
		},
		{
			name: "a blank name",
			args: []string{"--name", "  ", "--redirect-uri", "https://app.example.com/cb"},
			want: "client_name: enter your app's name",
		},
	}
	forEachBackend(t, func(t *testing.T, db database) {
		db.migrate(t)
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				for _, asJSON := range []bool{false, true} {
					args := append([]string{"clients", "create"}, tc.args...)
					if asJSON {
						args = append(args, "--json")
					}
					r := db.run(t, args...)
					wantCode(t, r, 2)
					wantContains(t, "stderr", r.stderr, tc.want, usageHead)
					if r.stdout != "" {
						t.Errorf("stdout is not empty:\n%s", r.stdout)
					}
				}
			})
		}
		t.Run("every problem is reported at once", func(t *testing.T) {
			r := db.run(t, "clients", "create", "--public", "--grant-type", "client_credentials", "--scope", "admin",
				"--redirect-uri", "https://app.example.com/cb#x")
			wantCode(t, r, 2)
			wantContains(t, "stderr", r.stderr, "client_name: enter your app's name", "grant_types: client_credentials needs a client that authenticates", `scope: "admin"`, "must not have a fragment")
		})
		t.Run("no client was created", func(t *testing.T) {
			if rows := listClients(t, db); len(rows) != 0 {
				t.Errorf("clients list shows %d clients, want none: %+v", len(rows), rows)
			}
		})
	})
}

func TestDatabaseErrorsHideThePassword(t *testing.T) {
	t.Parallel()
	const password = "hunter2-db-password"
	addr := freeAddr(t) // nothing listens there
	tests := []struct {
		name string
		dsn  string
	}{
		{"a password in the user info", "postgres://ajrly:" + password + "@" + addr + "/ajrly?sslmode=disable"},
		{"a password in the query", "postgres://ajrly@" + addr + "/ajrly?sslmode=disable&password=" + password},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, map[string]string{"AJRLY_DSN": tc.dsn, "AJRLY_SECRET": testSecret}, "", "users", "list")
			wantCode(t, r, 1)
			wantContains(t, "stderr", r.stderr, "postgres")
			if strings.Contains(r.all(), password) {
				t.Errorf("the output shows the database password:\n%s", r)
			}
		})
	}
}

func TestKeys(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, db database) {
		db.migrate(t)
		wantCode(t, db.run(t, "users", "create", "--email", "owner@example.com", "--password", "owner-password-1", "--org", "Acme"), 0)
		wantCode(t, db.run(t, "users", "create", "--email", "member@example.com", "--password", "member-password-1", "--org", "Acme"), 0)
		wantCode(t, db.run(t, "users", "create", "--email", "loner@example.com", "--password", "loner-password-1"), 0)

		r := db.run(t, "keys", "create", "--user", "owner@example.com", "--name", "CI deploys", "--scope", "read projects:write", "--json")
		wantCode(t, r, 0)
		var created map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &created); err != nil {
			t.Fatalf("keys create --json: %v\n%s", err, r.stdout)
		}
		secret, _ := created["key"].(string)
		id, _ := created["id"].(string)
		if !strings.HasPrefix(secret, "sk_live_") || len(secret) != len("sk_live_")+43 || !strings.HasPrefix(id, "key_") {
			t.Fatalf("created %v", created)
		}
		db.withStore(t, func(s *storage.Store) {
			k, err := s.APIKeyByDigest(t.Context(), storage.DigestHex(secret))
			if err != nil || k.ID != id || k.Scopes != "read projects:write" {
				t.Fatalf("the printed key is not the stored one: %+v, %v", k, err)
			}
		})

		r = db.run(t, "keys", "create", "--user", "owner@example.com", "--name", "expiring", "--scope", "read", "--expires-in", "720h")
		wantCode(t, r, 0)
		wantContains(t, "stdout", r.stdout, "key: sk_live_", "shown only now")

		r = db.run(t, "keys", "list")
		wantCode(t, r, 0)
		wantContains(t, "stdout", r.stdout, id, "CI deploys", secret[:12]+"…", "Acme", "owner@example.com", "active")
		if strings.Contains(r.stdout, secret) {
			t.Error("keys list shows the whole key")
		}
		wantCode(t, db.run(t, "keys", "list", "--org", "acme", "--json"), 0)

		for _, tc := range []struct {
			name string
			args []string
			code int
			want string
		}{
			{"a member cannot grant billing:read", []string{"--user", "member@example.com", "--name", "x", "--scope", "billing:read"}, 2, "not a permission a member can grant"},
			{"an unknown scope", []string{"--user", "owner@example.com", "--name", "x", "--scope", "admin"}, 2, `"admin"`},
			{"no name", []string{"--user", "owner@example.com", "--scope", "read"}, 2, "--name is required"},
			{"no scope", []string{"--user", "owner@example.com", "--name", "x"}, 2, "--scope is required"},
			{"an unknown user", []string{"--user", "nobody@example.com", "--name", "x", "--scope", "read"}, 1, "no user has the email"},
			{"another person's organization", []string{"--user", "loner@example.com", "--org", "Acme", "--name", "x", "--scope", "read"}, 1, "not a member of an organization named"},
			{"another organization", []string{"--user", "owner@example.com", "--org", "Globex", "--name", "x", "--scope", "read"}, 1, "not a member of an organization named"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := db.run(t, append([]string{"keys", "create"}, tc.args...)...)
				wantCode(t, r, tc.code)
				wantContains(t, "stderr", r.stderr, tc.want)
				if strings.Contains(r.stdout, "sk_live_") {
					t.Error("a refused command printed a key")
				}
			})
		}

		r = db.run(t, "keys", "revoke", id)
		wantCode(t, r, 0)
		wantContains(t, "stdout", r.stdout, "Revoked API key "+id)
		wantContains(t, "stdout", db.run(t, "keys", "list").stdout, "revoked")
		r = db.run(t, "keys", "revoke", id)
		wantCode(t, r, 1)
		wantContains(t, "stderr", r.stderr, "no active API key has the id")
		wantCode(t, db.run(t, "keys", "revoke"), 2)
	})
}

func TestKeysRotate(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, db database) {
		db.migrate(t)
		published := func() map[string]storage.SigningKey {
			out := map[string]storage.SigningKey{}
			db.withStore(t, func(s *storage.Store) {
				rows, err := s.ListSigningKeys(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range rows {
					out[r.KID] = r
				}
			})
			return out
		}

		// The first rotation of a fresh database creates the keys, then
		// replaces the RS256 one.
		r := db.run(t, "keys", "rotate", "--alg", "RS256", "--json")
		wantCode(t, r, 0)
		var rotated []map[string]string
		if err := json.Unmarshal([]byte(r.stdout), &rotated); err != nil || len(rotated) != 1 {
			t.Fatalf("keys rotate --json: %v\n%s", err, r.stdout)
		}
		keys := published()
		next, prev := keys[rotated[0]["kid"]], keys[rotated[0]["replaced_kid"]]
		if next.Alg != "RS256" || prev.Alg != "RS256" || next.RetiredAt != nil || prev.RetiredAt == nil || prev.ExpiresAt == nil {
			t.Fatalf("after keys rotate: %+v", keys)
		}
		// The old key signs until the new one is activated, and stays
		// published for the longest lifetime of what it signed (1h by
		// default) after that.
		if got := prev.RetiredAt.Sub(next.CreatedAt); got != provider.KeyActivation {
			t.Errorf("the old key stops signing %s after the rotation, want %s", got, provider.KeyActivation)
		}
		if got := prev.ExpiresAt.Sub(*prev.RetiredAt); got < time.Hour || got > 2*time.Hour {
			t.Errorf("the old key stays published %s after it stops signing, want the token lifetime plus a margin", got)
		}
		if len(keys) != 3 {
			t.Errorf("%d keys published, want the old and new RS256 keys and the ES256 key", len(keys))
		}

		r = db.run(t, "keys", "rotate")
		wantCode(t, r, 0)
		wantContains(t, "stdout", r.stdout, "RS256: new key", "ES256: new key", "stays in the JWKS until", "within a minute")

		// A leaked key: the new one signs at once, the others are withdrawn.
		r = db.run(t, "keys", "rotate", "--alg", "ES256", "--now")
		wantCode(t, r, 0)
		wantContains(t, "stdout", r.stdout, "were withdrawn")
		es := 0
		for _, k := range published() {
			if k.Alg == "ES256" {
				es++
			}
		}
		if es != 1 {
			t.Errorf("after keys rotate --now, %d ES256 keys are published, want 1", es)
		}

		r = db.run(t, "keys", "rotate", "--alg", "HS256")
		wantCode(t, r, 2)
		wantContains(t, "stderr", r.stderr, "--alg must be RS256, ES256 or all")
	})
}

// First-party apps and resource servers are the operator's decision
// (audit findings 3 and 9): the command line sets them on create and
// changes them with update, and clients list shows them.
func TestClientsUpdateSetsWhatOnlyTheOperatorDecides(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, db database) {
		db.migrate(t)
		r := db.run(t, "clients", "create", "--name", "Orders API", "--grant-type", "client_credentials", "--scope", "read", "--resource-server", "--json")
		wantCode(t, r, 0)
		var api struct {
			ID             string `json:"client_id"`
			ResourceServer bool   `json:"resource_server"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &api); err != nil || !api.ResourceServer {
			t.Fatalf("clients create --resource-server --json: %v\n%s", err, r.stdout)
		}
		r = db.run(t, "clients", "create", "--name", "Dashboard", "--redirect-uri", "https://dash.example.com/cb", "--json")
		wantCode(t, r, 0)
		var dash struct {
			ID string `json:"client_id"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &dash); err != nil {
			t.Fatal(err)
		}

		wantCode(t, db.run(t, "clients", "update", dash.ID, "--first-party=true"), 0)
		wantCode(t, db.run(t, "clients", "update", api.ID, "--resource-server=false"), 0)
		db.withStore(t, func(s *storage.Store) {
			d, err := s.FindClient(t.Context(), dash.ID)
			storagetest.Must(t, err)
			a, err := s.FindClient(t.Context(), api.ID)
			storagetest.Must(t, err)
			if !d.FirstParty || d.ResourceServer || a.ResourceServer || a.FirstParty {
				t.Errorf("after update: dashboard first-party %v resource %v; api first-party %v resource %v", d.FirstParty, d.ResourceServer, a.FirstParty, a.ResourceServer)
			}
		})
		wantCode(t, db.run(t, "clients", "update", api.ID, "--resource-server"), 0)
		r = db.run(t, "clients", "list")
		wantCode(t, r, 0)
		wantContains(t, "stdout", r.stdout, "TRUST", "first-party", "resource-server")
		r = db.run(t, "clients", "list", "--json")
		wantContains(t, "stdout", r.stdout, `"first_party": true`, `"resource_server": true`)

		for _, tc := range []struct {
			name string
			args []string
			code int
			want string
		}{
			{"nothing to change", []string{"clients", "update", api.ID}, 2, "give --first-party"},
			{"no client id", []string{"clients", "update", "--first-party=true"}, 2, "usage"},
			{"an unknown client", []string{"clients", "update", "cl_nope", "--first-party=true"}, 1, `no client has the id "cl_nope"`},
			{"not a boolean", []string{"clients", "update", api.ID, "--first-party=maybe"}, 2, "first-party"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := db.run(t, tc.args...)
				wantCode(t, r, tc.code)
				wantContains(t, "stderr", r.stderr, tc.want)
			})
		}
	})
}

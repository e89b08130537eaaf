package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"
)

// migration is one versioned schema change. Its SQL is written once for
// both drivers with {ts}, {bytes} and {bigint} standing for the column types
// that differ; statements are separated by ";\n". A change SQL cannot say
// for both drivers (one that needs fresh random ids, say) is run, after
// the SQL, in the same transaction: it must use only SQL valid at its
// version, never the current models.
type migration struct {
	version int
	name    string
	sql     string
	run     func(ctx context.Context, s *Store) error
}

// migrations lists every schema change in order. Never edit a released
// entry: append a new one.
var migrations = []migration{
	{1, "initial schema", migration1, nil},
	{2, "organizations, first-party clients, logout URIs, sign-in throttling", migration2, nil},
	{3, "api keys, their daily usage, JWT access tokens for clients", migration3, nil},
	{4, "dynamic client registration: client metadata, keys, rotated secrets, initial access tokens", migration4, nil},
	{5, "resource servers; a personal organization for everyone without one", migration5, givePersonalOrganizations},
	{6, "single-use tokens of links in mail (verification, email change, password reset)", migration6, nil},
	{7, "teams: invitations, the audit log, the organization each token acts in", migration7, nil},
}

// SchemaVersion is the schema version this binary writes and expects.
func SchemaVersion() int { return migrations[len(migrations)-1].version }

// migrationLockID is the PostgreSQL advisory lock that keeps two instances
// starting at once from migrating concurrently.
const migrationLockID = 0x616a726c79 // "ajrly"

func (s *Store) ddl(stmt string) string {
	types := map[string][2]string{ // placeholder: sqlite, postgres
		"{ts}":     {"DATETIME", "TIMESTAMP WITH TIME ZONE"},
		"{bytes}":  {"BLOB", "BYTEA"},
		"{bigint}": {"INTEGER", "BIGINT"},
		"{serial}": {"INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY"},
	}
	for k, v := range types {
		if s.dialect == "postgres" {
			stmt = strings.ReplaceAll(stmt, k, v[1])
		} else {
			stmt = strings.ReplaceAll(stmt, k, v[0])
		}
	}
	return stmt
}

// Version reports the schema version the database is at (0 when empty).
func (s *Store) Version(ctx context.Context) (int, error) {
	if !s.db.WithContext(ctx).Migrator().HasTable("schema_migrations") {
		return 0, nil
	}
	var v *int
	if err := s.db.WithContext(ctx).Raw("SELECT MAX(version) FROM schema_migrations").Scan(&v).Error; err != nil {
		return 0, fmt.Errorf("read schema version: %w", s.translate(err, ErrNotFound))
	}
	if v == nil {
		return 0, nil
	}
	return *v, nil
}

// CheckVersion returns nil when the database is at exactly the schema
// version of this binary, and an error saying what to do otherwise.
func (s *Store) CheckVersion(ctx context.Context) error {
	v, err := s.Version(ctx)
	if err != nil {
		return err
	}
	switch want := SchemaVersion(); {
	case v > want:
		return fmt.Errorf("%w: the database is at schema version %d, this binary knows up to %d; run a newer ajrly-auth", ErrDatabaseNewer, v, want)
	case v < want:
		return fmt.Errorf("the database is at schema version %d and needs %d: run `ajrly-auth migrate`", v, want)
	}
	return nil
}

// Migrate applies every migration the database has not seen, in one
// transaction, and refuses a database that a newer binary migrated.
// It returns the versions it applied.
func (s *Store) Migrate(ctx context.Context) ([]int, error) {
	return s.MigrateTo(ctx, SchemaVersion())
}

// MigrateTo applies the migrations up to and including version target;
// tests use it to build a database as an older binary left it.
func (s *Store) MigrateTo(ctx context.Context, target int) ([]int, error) {
	var applied []int
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if s.dialect == "postgres" {
			if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", migrationLockID).Error; err != nil {
				return fmt.Errorf("lock for migration: %w", err)
			}
		}
		if err := tx.Exec(s.ddl(`CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY,
			name TEXT NOT NULL,
			applied_at {ts} NOT NULL
		)`)).Error; err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		var current *int
		if err := tx.Raw("SELECT MAX(version) FROM schema_migrations").Scan(&current).Error; err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		have := 0
		if current != nil {
			have = *current
		}
		if have > SchemaVersion() {
			return fmt.Errorf("%w: the database is at schema version %d, this binary knows up to %d; run a newer ajrly-auth", ErrDatabaseNewer, have, SchemaVersion())
		}
		for _, m := range migrations {
			if m.version <= have || m.version > target {
				continue
			}
			for _, stmt := range strings.Split(m.sql, ";\n") {
				if strings.TrimSpace(stmt) == "" {
					continue
				}
				if err := tx.Exec(s.ddl(stmt)).Error; err != nil {
					return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
				}
			}
			if m.run != nil {
				if err := m.run(context.WithValue(ctx, txKey{}, tx), s); err != nil {
					return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
				}
			}
			if err := tx.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
				m.version, m.name, utc(s.now())).Error; err != nil {
				return fmt.Errorf("record migration %d: %w", m.version, err)
			}
			applied = append(applied, m.version)
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrDatabaseNewer) {
			return nil, err
		}
		return nil, s.translate(err, ErrNotFound)
	}
	return applied, nil
}

// tokenTable is the shape every fosite request table shares. client_id has
// no foreign key on purpose: checking one locks the client's row FOR KEY
// SHARE on every insert, and under concurrency that costs PostgreSQL a new
// MultiXact per token (a fifth of its insert rate, measured). DeleteClient
// removes a client's rows itself.
func tokenTable(name, extra string) string {
	return `CREATE TABLE ` + name + ` (
	signature TEXT PRIMARY KEY,
	request_id TEXT NOT NULL,
	client_id TEXT NOT NULL,
	subject TEXT NOT NULL DEFAULT '',
	requested_at {ts} NOT NULL,
	expires_at {ts} NOT NULL,
	scopes TEXT NOT NULL DEFAULT '',
	granted_scopes TEXT NOT NULL DEFAULT '',
	audience TEXT NOT NULL DEFAULT '',
	granted_audience TEXT NOT NULL DEFAULT '',
	form TEXT NOT NULL DEFAULT '',
	session TEXT NOT NULL DEFAULT '',
	active BOOLEAN NOT NULL DEFAULT TRUE` + extra + `
);
CREATE INDEX ` + name + `_request_id_idx ON ` + name + ` (request_id);
CREATE INDEX ` + name + `_expires_at_idx ON ` + name + ` (expires_at);
`
}

// grantIndex lets a client's tokens, or one person's tokens of a client, be
// found without scanning: deleting a client and taking an app's access
// back both need it.
func grantIndex(name string) string {
	return "CREATE INDEX " + name + "_client_subject_idx ON " + name + " (client_id, subject);\n"
}

var migration1 = `
CREATE TABLE users (
	id TEXT PRIMARY KEY,
	email TEXT NOT NULL,
	name TEXT NOT NULL DEFAULT '',
	password_hash TEXT NOT NULL,
	email_verified BOOLEAN NOT NULL DEFAULT FALSE,
	created_at {ts} NOT NULL,
	updated_at {ts} NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE TABLE clients (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	secret_digest {bytes},
	redirect_uris TEXT NOT NULL DEFAULT '[]',
	grant_types TEXT NOT NULL DEFAULT '[]',
	response_types TEXT NOT NULL DEFAULT '[]',
	scopes TEXT NOT NULL DEFAULT '[]',
	audience TEXT NOT NULL DEFAULT '[]',
	public BOOLEAN NOT NULL DEFAULT FALSE,
	token_endpoint_auth_method TEXT NOT NULL,
	created_at {ts} NOT NULL,
	updated_at {ts} NOT NULL
);
` + tokenTable("oauth_authorize_codes", "") +
	tokenTable("oauth_access_tokens", "") + grantIndex("oauth_access_tokens") +
	tokenTable("oauth_refresh_tokens", ",\n\taccess_signature TEXT NOT NULL DEFAULT ''") + grantIndex("oauth_refresh_tokens") +
	tokenTable("oauth_pkce", "") +
	tokenTable("oauth_oidc_sessions", "") + `
CREATE TABLE oauth_jtis (
	jti TEXT PRIMARY KEY,
	expires_at {ts} NOT NULL
);
CREATE INDEX oauth_jtis_expires_at_idx ON oauth_jtis (expires_at);
CREATE TABLE login_sessions (
	id_digest TEXT PRIMARY KEY,
	user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	auth_time {ts} NOT NULL,
	created_at {ts} NOT NULL,
	last_seen_at {ts} NOT NULL,
	expires_at {ts} NOT NULL,
	user_agent TEXT NOT NULL DEFAULT '',
	remote_addr TEXT NOT NULL DEFAULT ''
);
CREATE INDEX login_sessions_user_id_idx ON login_sessions (user_id);
CREATE INDEX login_sessions_expires_at_idx ON login_sessions (expires_at);
CREATE TABLE auth_flows (
	id TEXT PRIMARY KEY,
	client_id TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
	form TEXT NOT NULL,
	requested_at {ts} NOT NULL,
	subject TEXT NOT NULL DEFAULT '',
	auth_time {ts},
	expires_at {ts} NOT NULL
);
CREATE INDEX auth_flows_expires_at_idx ON auth_flows (expires_at);
CREATE TABLE consents (
	id TEXT PRIMARY KEY,
	user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	client_id TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
	scopes TEXT NOT NULL DEFAULT '',
	remember BOOLEAN NOT NULL DEFAULT FALSE,
	created_at {ts} NOT NULL,
	updated_at {ts} NOT NULL
);
CREATE UNIQUE INDEX consents_user_client_key ON consents (user_id, client_id);
CREATE INDEX consents_client_id_idx ON consents (client_id);
CREATE TABLE signing_keys (
	kid TEXT PRIMARY KEY,
	alg TEXT NOT NULL,
	public_jwk TEXT NOT NULL,
	private_enc {bytes} NOT NULL,
	created_at {ts} NOT NULL,
	retired_at {ts},
	expires_at {ts}
)`

var migration2 = `
CREATE TABLE organizations (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	name_key TEXT NOT NULL,
	created_at {ts} NOT NULL,
	updated_at {ts} NOT NULL
);
CREATE UNIQUE INDEX organizations_name_key ON organizations (name_key);
CREATE TABLE memberships (
	org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
	user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	role TEXT NOT NULL,
	created_at {ts} NOT NULL,
	PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user_id_idx ON memberships (user_id);
ALTER TABLE consents ADD COLUMN org_id TEXT NOT NULL DEFAULT '';
DROP INDEX consents_user_client_key;
CREATE UNIQUE INDEX consents_user_org_client_key ON consents (user_id, org_id, client_id);
ALTER TABLE clients ADD COLUMN first_party BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE clients ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]';
ALTER TABLE login_sessions ADD COLUMN org_id TEXT NOT NULL DEFAULT '';
CREATE TABLE login_throttles (
	throttle_key TEXT PRIMARY KEY,
	failures INTEGER NOT NULL,
	window_start {ts} NOT NULL,
	blocked_until {ts},
	expires_at {ts} NOT NULL
);
CREATE INDEX login_throttles_expires_at_idx ON login_throttles (expires_at)`

var migration3 = `
CREATE TABLE api_keys (
	id TEXT PRIMARY KEY,
	org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
	user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	digest TEXT NOT NULL,
	prefix TEXT NOT NULL,
	last4 TEXT NOT NULL,
	scopes TEXT NOT NULL,
	created_at {ts} NOT NULL,
	expires_at {ts},
	revoked_at {ts},
	last_used_at {ts},
	replaced_by TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX api_keys_digest_key ON api_keys (digest);
CREATE INDEX api_keys_org_id_idx ON api_keys (org_id, created_at);
CREATE TABLE api_key_usage (
	key_id TEXT NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
	day TEXT NOT NULL,
	requests {bigint} NOT NULL,
	PRIMARY KEY (key_id, day)
);
ALTER TABLE clients ADD COLUMN access_token_format TEXT NOT NULL DEFAULT 'opaque'`

var migration4 = `
ALTER TABLE clients ADD COLUMN org_id TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}';
ALTER TABLE clients ADD COLUMN jwks TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN jwks_uri TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN token_endpoint_auth_signing_alg TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN registration_token_digest TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN rotated_secrets TEXT NOT NULL DEFAULT '[]';
CREATE INDEX clients_org_id_idx ON clients (org_id);
CREATE TABLE initial_access_tokens (
	id TEXT PRIMARY KEY,
	digest TEXT NOT NULL,
	org_id TEXT NOT NULL DEFAULT '',
	created_by TEXT NOT NULL DEFAULT '',
	created_at {ts} NOT NULL,
	expires_at {ts},
	revoked_at {ts}
);
CREATE UNIQUE INDEX initial_access_tokens_digest_key ON initial_access_tokens (digest)`

var migration5 = `
ALTER TABLE clients ADD COLUMN resource_server BOOLEAN NOT NULL DEFAULT FALSE`

var migration6 = `
CREATE TABLE account_tokens (
	digest TEXT PRIMARY KEY,
	purpose TEXT NOT NULL,
	user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	email TEXT NOT NULL,
	created_at {ts} NOT NULL,
	expires_at {ts} NOT NULL,
	used_at {ts}
);
CREATE INDEX account_tokens_user_purpose_idx ON account_tokens (user_id, purpose);
CREATE INDEX account_tokens_expires_at_idx ON account_tokens (expires_at);
CREATE INDEX oauth_authorize_codes_subject_idx ON oauth_authorize_codes (subject);
CREATE INDEX oauth_access_tokens_subject_idx ON oauth_access_tokens (subject);
CREATE INDEX oauth_refresh_tokens_subject_idx ON oauth_refresh_tokens (subject);
CREATE INDEX oauth_pkce_subject_idx ON oauth_pkce (subject);
CREATE INDEX oauth_oidc_sessions_subject_idx ON oauth_oidc_sessions (subject)`

// migration7: invitations into an organization (for addresses that may
// have no account yet, so not account_tokens, whose rows belong to a
// person); the append-only audit log, numbered so that a cursor is one
// indexed comparison; and the organization each code and token acts in,
// so that removing a member revokes exactly their tokens there.
var migration7 = `
CREATE TABLE invitations (
	id TEXT PRIMARY KEY,
	org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
	email TEXT NOT NULL,
	role TEXT NOT NULL,
	digest TEXT NOT NULL,
	invited_by TEXT NOT NULL DEFAULT '',
	created_at {ts} NOT NULL,
	expires_at {ts} NOT NULL,
	sent_at {ts} NOT NULL,
	accepted_at {ts},
	accepted_by TEXT NOT NULL DEFAULT '',
	revoked_at {ts}
);
CREATE UNIQUE INDEX invitations_digest_key ON invitations (digest);
CREATE INDEX invitations_org_id_idx ON invitations (org_id);
CREATE INDEX invitations_email_idx ON invitations (email);
CREATE TABLE audit_events (
	id {serial},
	created_at {ts} NOT NULL,
	kind TEXT NOT NULL,
	org_id TEXT NOT NULL DEFAULT '',
	actor_id TEXT NOT NULL DEFAULT '',
	actor TEXT NOT NULL DEFAULT '',
	target_id TEXT NOT NULL DEFAULT '',
	target TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL DEFAULT '',
	ip TEXT NOT NULL DEFAULT '',
	user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_org_id_idx ON audit_events (org_id, id);
CREATE INDEX audit_events_created_at_idx ON audit_events (created_at);
ALTER TABLE oauth_authorize_codes ADD COLUMN org_id TEXT NOT NULL DEFAULT '';
ALTER TABLE oauth_access_tokens ADD COLUMN org_id TEXT NOT NULL DEFAULT '';
ALTER TABLE oauth_refresh_tokens ADD COLUMN org_id TEXT NOT NULL DEFAULT ''`

// givePersonalOrganizations gives every person who belongs to no
// organization a personal one they own: every token for a person names an
// organization they are a member of (DESIGN.md, "Tenancy and roles"), and
// people created by the command line without --org had none.
func givePersonalOrganizations(ctx context.Context, s *Store) error {
	type person struct{ ID, Email, Name string }
	var people []person
	err := s.conn(ctx).Raw(`SELECT id, email, name FROM users u
		WHERE NOT EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id) ORDER BY created_at, id`).Scan(&people).Error
	if err != nil {
		return fmt.Errorf("find people without an organization: %w", err)
	}
	now := utc(s.now())
	for _, p := range people {
		name := ""
		for _, candidate := range PersonalOrgNames(p.Name, p.Email) {
			var n int64
			if err := s.conn(ctx).Raw("SELECT COUNT(*) FROM organizations WHERE name_key = ?", orgNameKey(candidate)).Scan(&n).Error; err != nil {
				return fmt.Errorf("check organization name: %w", err)
			}
			if n == 0 {
				name = candidate
				break
			}
		}
		if name == "" {
			name = "Personal organization " + RandomBase62(8)
		}
		id := NewID("org")
		if err := s.conn(ctx).Exec("INSERT INTO organizations (id, name, name_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
			id, name, orgNameKey(name), now, now).Error; err != nil {
			return fmt.Errorf("create personal organization of %s: %w", p.ID, err)
		}
		if err := s.conn(ctx).Exec("INSERT INTO memberships (org_id, user_id, role, created_at) VALUES (?, ?, ?, ?)",
			id, p.ID, RoleOwner, now).Error; err != nil {
			return fmt.Errorf("make %s the owner of their personal organization: %w", p.ID, err)
		}
	}
	return nil
}

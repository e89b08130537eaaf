package storage

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// LoginSession is a browser's signed-in session. The cookie holds a random
// token; the table holds only its SHA-256 digest.
type LoginSession struct {
	IDDigest   string `gorm:"primaryKey;column:id_digest"`
	UserID     string
	AuthTime   time.Time
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	UserAgent  string
	RemoteAddr string
	// OrgID is the organization the person works in on our own pages.
	OrgID string
}

// TableName is the login_sessions table.
func (LoginSession) TableName() string { return "login_sessions" }

// CreateLoginSession starts a session for a user who just authenticated,
// working in orgID, and returns the token for the cookie.
func (s *Store) CreateLoginSession(ctx context.Context, userID, orgID string, ttl time.Duration, userAgent, remoteAddr string) (string, *LoginSession, error) {
	token := NewSecret()
	now := utc(s.now())
	ls := &LoginSession{
		IDDigest:   DigestHex(token),
		UserID:     userID,
		AuthTime:   now.Truncate(time.Second),
		CreatedAt:  now,
		LastSeenAt: now,
		ExpiresAt:  now.Add(ttl),
		UserAgent:  truncate(userAgent, 256),
		RemoteAddr: truncate(remoteAddr, 64),
		OrgID:      orgID,
	}
	if err := s.conn(ctx).Create(ls).Error; err != nil {
		return "", nil, fmt.Errorf("create login session: %w", s.translate(err, ErrNotFound))
	}
	return token, ls, nil
}

// LoginSessionByToken returns the unexpired session a cookie token names,
// or ErrNotFound.
func (s *Store) LoginSessionByToken(ctx context.Context, token string) (*LoginSession, error) {
	var ls LoginSession
	err := s.conn(ctx).Where("id_digest = ? AND expires_at > ?", DigestHex(token), utc(s.now())).Take(&ls).Error
	if err != nil {
		return nil, fmt.Errorf("find login session: %w", s.translate(err, ErrNotFound))
	}
	return &ls, nil
}

// TouchLoginSession records that the session a cookie token names was
// used now, so that its idle timeout starts again.
func (s *Store) TouchLoginSession(ctx context.Context, token string) error {
	err := s.conn(ctx).Model(&LoginSession{}).Where("id_digest = ?", DigestHex(token)).Update("last_seen_at", utc(s.now())).Error
	if err != nil {
		return fmt.Errorf("touch login session: %w", s.translate(err, ErrNotFound))
	}
	return nil
}

// DeleteLoginSession ends the session a cookie token names.
func (s *Store) DeleteLoginSession(ctx context.Context, token string) error {
	if err := s.conn(ctx).Where("id_digest = ?", DigestHex(token)).Delete(&LoginSession{}).Error; err != nil {
		return fmt.Errorf("delete login session: %w", s.translate(err, ErrNotFound))
	}
	return nil
}

// SetSessionOrg switches the organization a session works in.
func (s *Store) SetSessionOrg(ctx context.Context, token, orgID string) error {
	err := s.conn(ctx).Model(&LoginSession{}).Where("id_digest = ?", DigestHex(token)).Update("org_id", orgID).Error
	if err != nil {
		return fmt.Errorf("switch organization: %w", s.translate(err, ErrNotFound))
	}
	return nil
}

// DeleteUserLoginSessions ends every session of a user ("sign out of all
// devices") and returns how many there were.
func (s *Store) DeleteUserLoginSessions(ctx context.Context, userID string) (int64, error) {
	res := s.conn(ctx).Where("user_id = ?", userID).Delete(&LoginSession{})
	if res.Error != nil {
		return 0, fmt.Errorf("delete login sessions of %s: %w", userID, s.translate(res.Error, ErrNotFound))
	}
	return res.RowsAffected, nil
}

// truncate returns at most n characters of s as valid UTF-8: invalid
// bytes become U+FFFD and NUL is dropped, since PostgreSQL refuses both
// in text (SQLSTATE 22021), and the cut never splits a rune. A header
// such as User-Agent is whatever bytes the client sent.
func truncate(s string, n int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	count := 0
	for i := range s {
		if count == n {
			return s[:i]
		}
		count++
	}
	return s
}

// Handle names a session on a page (the list of signed-in devices)
// without giving away what the table keys it by.
func (ls *LoginSession) Handle() string { return DigestHex("handle:" + ls.IDDigest)[:24] }

// UserLoginSessions returns a person's unexpired sessions, the most
// recently used first.
func (s *Store) UserLoginSessions(ctx context.Context, userID string) ([]LoginSession, error) {
	var out []LoginSession
	err := s.conn(ctx).Where("user_id = ? AND expires_at > ?", userID, utc(s.now())).
		Order("last_seen_at DESC, created_at DESC").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list login sessions of %s: %w", userID, s.translate(err, ErrNotFound))
	}
	return out, nil
}

// DeleteUserLoginSession ends the session of a person that handle names
// (see Handle); ErrNotFound when they have none by that handle.
func (s *Store) DeleteUserLoginSession(ctx context.Context, userID, handle string) error {
	sessions, err := s.UserLoginSessions(ctx, userID)
	if err != nil {
		return err
	}
	for _, ls := range sessions {
		if ls.Handle() == handle {
			return s.conn(ctx).Where("id_digest = ?", ls.IDDigest).Delete(&LoginSession{}).Error
		}
	}
	return fmt.Errorf("sign out session %s: %w", handle, ErrNotFound)
}

// DeleteOtherLoginSessions ends every session of a person but the one the
// cookie token keep names ("other sessions are signed out"), and returns
// how many it ended.
func (s *Store) DeleteOtherLoginSessions(ctx context.Context, userID, keep string) (int64, error) {
	res := s.conn(ctx).Where("user_id = ? AND id_digest <> ?", userID, DigestHex(keep)).Delete(&LoginSession{})
	if res.Error != nil {
		return 0, fmt.Errorf("sign out other sessions of %s: %w", userID, s.translate(res.Error, ErrNotFound))
	}
	return res.RowsAffected, nil
}

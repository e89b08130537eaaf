package storage

import (
	"context"
	"fmt"
)

// expiring names each table the janitor cleans and its key column.
var expiring = []struct{ table, key string }{
	{tableCodes, "signature"},
	{tableAccess, "signature"},
	{tableRefresh, "signature"},
	{tablePKCE, "signature"},
	{tableOIDC, "signature"},
	{"oauth_jtis", "jti"},
	{"login_sessions", "id_digest"},
	{"auth_flows", "id"},
	{"login_throttles", "throttle_key"},
	{"account_tokens", "digest"},
	{"invitations", "id"},
}

// DeleteExpired removes expired rows from every table that has them, at
// most batch rows per statement so that no statement holds locks for long,
// and returns how many rows it removed.
func (s *Store) DeleteExpired(ctx context.Context, batch int) (int64, error) {
	if batch <= 0 {
		batch = 1000
	}
	var total int64
	for _, t := range expiring {
		for {
			query := fmt.Sprintf("DELETE FROM %s WHERE %s IN (SELECT %s FROM %s WHERE expires_at <= ? LIMIT %d)",
				t.table, t.key, t.key, t.table, batch)
			res, err := s.pool(ctx).ExecContext(ctx, s.q(query), utc(s.now()))
			if err != nil {
				return total, fmt.Errorf("delete expired rows from %s: %w", t.table, s.translate(err, ErrNotFound))
			}
			n, _ := res.RowsAffected()
			total += n
			if n < int64(batch) {
				break
			}
			if err := ctx.Err(); err != nil {
				return total, err
			}
		}
	}
	return total, nil
}

package storagetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/ory/fosite"

	"github.com/ajrly/ajrly-auth/storage"
)

// clientCases are the cases of OAuth clients.
var clientCases = []testCase{
	{"clients are created read updated listed and deleted", testClientCRUD},
	{"a client change is seen at once through the cache", testClientCacheInvalidation},
	{"deleting a client removes its codes and tokens and no one else's", testDeleteClientRemovesTokens},
}

func testClientCRUD(t *testing.T, s *storage.Store, clock *Clock) {
	c := newClient(t, s)
	got, err := s.FindClient(ctx(t), c.ID)
	Must(t, err)
	ignoreTimes := cmp.Options{cmpopts.IgnoreFields(storage.Client{}, "CreatedAt", "UpdatedAt"), cmpopts.IgnoreUnexported(storage.Client{})}
	if diff := cmp.Diff(c, got, ignoreTimes, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("read back (-want +got):\n%s", diff)
	}
	if got.CreatedAt.IsZero() {
		t.Error("created_at not set")
	}

	got.Name = "Renamed App"
	got.RedirectURIs = append(got.RedirectURIs, "http://127.0.0.1/callback")
	Must(t, s.UpdateClient(ctx(t), got))
	again, err := s.FindClient(ctx(t), c.ID)
	Must(t, err)
	if diff := cmp.Diff(got, again, ignoreTimes, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("after update (-want +got):\n%s", diff)
	}

	clock.Advance(time.Second)
	other := newClient(t, s)
	list, err := s.ListClients(ctx(t))
	Must(t, err)
	if len(list) != 2 || list[0].ID != c.ID || list[1].ID != other.ID {
		t.Fatalf("list = %v, want [%s %s]", ids(list), c.ID, other.ID)
	}

	Must(t, s.DeleteClient(ctx(t), c.ID))
	if _, err := s.FindClient(ctx(t), c.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("find deleted client error = %v, want ErrNotFound", err)
	}
	if _, err := s.GetClient(ctx(t), c.ID); !errors.Is(err, fosite.ErrNotFound) {
		t.Fatalf("GetClient of deleted client error = %v, want fosite.ErrNotFound", err)
	}
	if err := s.DeleteClient(ctx(t), c.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("second delete error = %v, want ErrNotFound", err)
	}
	if err := s.CreateClient(ctx(t), &storage.Client{ID: other.ID, Name: "dup", TokenEndpointAuthMethod: "none"}); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("duplicate id error = %v, want ErrConflict", err)
	}
}

func ids(cs []storage.Client) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func testClientCacheInvalidation(t *testing.T, s *storage.Store, _ *Clock) {
	c := newClient(t, s)
	if _, err := s.GetClient(ctx(t), c.ID); err != nil { // warm the cache
		t.Fatal(err)
	}
	updated := *c
	updated.SecretDigest = storage.Digest("a-new-secret-a-new-secret-a-new-secret")
	Must(t, s.UpdateClient(ctx(t), &updated))
	got, err := s.GetClient(ctx(t), c.ID)
	Must(t, err)
	if !storage.DigestEqual(got.GetHashedSecret(), "a-new-secret-a-new-secret-a-new-secret") {
		t.Fatal("cached client still has the old secret after an update")
	}
}

func testDeleteClientRemovesTokens(t *testing.T, s *storage.Store, clock *Clock) {
	doomed, other := newClient(t, s), newClient(t, s)
	for _, c := range []*storage.Client{doomed, other} {
		req := newRequest(t, s, c, clock, time.Hour)
		Must(t, s.CreateAuthorizeCodeSession(ctx(t), "code-"+c.ID, req))
		Must(t, s.CreateAccessTokenSession(ctx(t), "at-"+c.ID, req))
		Must(t, s.CreateRefreshTokenSession(ctx(t), "rt-"+c.ID, "at-"+c.ID, req))
	}
	Must(t, s.DeleteClient(ctx(t), doomed.ID))
	var left int64
	for _, table := range []string{"oauth_authorize_codes", "oauth_access_tokens", "oauth_refresh_tokens"} {
		var n int64
		Must(t, s.DB().Raw("SELECT COUNT(*) FROM "+table+" WHERE client_id = ?", doomed.ID).Scan(&n).Error)
		left += n
	}
	if left != 0 {
		t.Fatalf("%d rows of the deleted client remain", left)
	}
	if _, err := s.GetAccessTokenSession(ctx(t), "at-"+other.ID, newSession()); err != nil {
		t.Fatalf("another client's token went too: %v", err)
	}
}

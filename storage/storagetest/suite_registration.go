package storagetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ajrly/ajrly-auth/storage"
)

// registrationCases are the cases of dynamic client registration.
var registrationCases = []testCase{
	{"a client's registration metadata, keys and former secrets round-trip", testClientRegistration},
}

func testClientRegistration(t *testing.T, s *storage.Store, clock *Clock) {
	c := newClient(t, s)
	c.OrgID = "org_1"
	c.Metadata = storage.ClientMetadata{LogoURI: "https://app.example.com/logo.png", ClientURI: "https://app.example.com",
		PolicyURI: "https://app.example.com/privacy", TOSURI: "https://app.example.com/terms", Contacts: []string{"dev@example.com"},
		Extra: map[string]any{"software_statement_note": "kept"}}
	jwks := `{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","kid":"k1","use":"sig","alg":"ES256"}]}`
	Must(t, c.SetJWKS(jwks))
	c.TokenEndpointAuthMethod, c.TokenEndpointAuthSigningAlg = "private_key_jwt", "ES256"
	c.RegistrationTokenDigest = storage.DigestHex("registration-token")
	c.RotatedSecrets = storage.RotatedSecrets{{Digest: storage.DigestHex("old-secret"), ExpiresAt: clock.Now().Add(time.Hour)}}
	Must(t, s.UpdateClient(ctx(t), c))

	got, err := s.FindClient(ctx(t), c.ID)
	Must(t, err)
	if diff := cmp.Diff(c.Metadata, got.Metadata); diff != "" {
		t.Errorf("metadata (-want +got):\n%s", diff)
	}
	if got.GetJSONWebKeys() == nil || len(got.GetJSONWebKeys().Key("k1")) != 1 || got.GetTokenEndpointAuthSigningAlgorithm() != "ES256" {
		t.Errorf("keys read back: %+v", got.GetJSONWebKeys())
	}
	if got.RegistrationTokenDigest != c.RegistrationTokenDigest || got.OrgID != "org_1" {
		t.Errorf("client = %+v", got)
	}
	if !got.SecretMatches("old-secret", clock.Now()) || got.SecretMatches("old-secret", clock.Now().Add(time.Hour)) {
		t.Error("a former secret is not accepted exactly during its grace period")
	}
	if !got.SecretMatches("s3cret-s3cret-s3cret-s3cret-s3cret", clock.Now()) || got.SecretMatches("nope", clock.Now()) {
		t.Error("the current secret is not matched exactly")
	}
	if err := got.SetJWKS("{not json"); err == nil {
		t.Error("a broken key set was accepted")
	}
	list, err := s.ListOrgClients(ctx(t), "org_1")
	Must(t, err)
	if len(list) != 1 || list[0].ID != c.ID {
		t.Errorf("clients of org_1 = %v", ids(list))
	}

	exp := clock.Now().Add(time.Hour)
	iat := &storage.InitialAccessToken{ID: storage.NewID("iat"), Digest: storage.DigestHex("initial"), OrgID: "org_1", CreatedAt: clock.Now(), ExpiresAt: &exp}
	Must(t, s.CreateInitialAccessToken(ctx(t), iat))
	found, err := s.InitialAccessTokenByDigest(ctx(t), storage.DigestHex("initial"))
	Must(t, err)
	if !found.Usable(clock.Now()) || found.Usable(exp) {
		t.Errorf("initial access token usable: %+v", found)
	}
	Must(t, s.RevokeInitialAccessToken(ctx(t), "org_1", iat.ID))
	found, _ = s.InitialAccessTokenByDigest(ctx(t), storage.DigestHex("initial"))
	if found.Usable(clock.Now()) {
		t.Error("a revoked initial access token is usable")
	}
	if err := s.RevokeInitialAccessToken(ctx(t), "org_2", iat.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("revoking another organization's token: %v", err)
	}
}

package e2e

import (
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

// The OpenID Foundation conformance suite's Config OP plan
// (OIDCCConfigTestPlan) and Dynamic OP plan (OIDCCDynamicTestPlan), one test
// per module, named after it. Each test drives the provider the way the
// module does (net/openid/conformance/openid/OIDCC*.java and the conditions
// it calls) and asserts what the module asserts. The Dynamic plan registers
// its clients at /register and authenticates them with private_key_jwt.

// oidcc-discovery-endpoint-verification (Config OP): the discovery document holds what OpenID Connect Discovery requires, and the JWKS only valid public keys.
func TestOIDCCDiscoveryEndpointVerification(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		ctx := t.Context()

		// GetDynamicServerConfiguration, EnsureDiscoveryEndpointResponseStatusCodeIs200,
		// CheckDiscoveryEndpointReturnedJsonContentType.
		discoveryURL := s.URL + "/.well-known/openid-configuration"
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, discoveryURL, nil)
		resp, doc := doJSON(t, req)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("discovery: status %d", resp.StatusCode)
		}
		dynWantJSON(t, "the discovery document", resp)
		// go-oidc refuses a document whose issuer is not where it was found.
		if _, err := oidc.NewProvider(ctx, s.URL); err != nil {
			t.Errorf("go-oidc refuses the discovery document: %v", err)
		}
		str := func(k string) string { v, _ := doc[k].(string); return v }
		strs := func(k string) ([]string, bool) {
			list, ok := doc[k].([]any)
			out := make([]string, 0, len(list))
			for _, v := range list {
				s, isStr := v.(string)
				if !isStr {
					return nil, false
				}
				out = append(out, s)
			}
			return out, ok
		}

		// CheckDiscEndpointIssuer, CheckDiscEndpointIssuerIsValidUrl:
		// the issuer is the discovery URL without the well-known path, an
		// absolute URL without query or fragment (RFC 8414 §2).
		issuer := str("issuer")
		if want := strings.TrimSuffix(discoveryURL, "/.well-known/openid-configuration"); strings.TrimSuffix(issuer, "/") != want {
			t.Errorf("issuer = %q, want %q (OpenID Connect Discovery §4.3)", issuer, want)
		}
		if u, err := url.Parse(issuer); err != nil || !u.IsAbs() || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			t.Errorf("issuer %q is not an absolute URL without query and fragment", issuer)
		}

		// OIDCCCheckDiscEndpointResponseTypesSupported (static client): at
		// least one OpenID Connect response type; this provider offers code
		// alone.
		if rt, ok := strs("response_types_supported"); !ok || !slices.Equal(rt, []string{"code"}) {
			t.Errorf("response_types_supported = %v, want [code]", doc["response_types_supported"])
		}
		// CheckDiscEndpointSubjectTypesSupported: public or pairwise.
		if st, ok := strs("subject_types_supported"); !ok || !(slices.Contains(st, "public") || slices.Contains(st, "pairwise")) {
			t.Errorf("subject_types_supported = %v, want public or pairwise", doc["subject_types_supported"])
		}
		// OIDCCCheckDiscEndpointIdTokenSigningAlgValuesSupported: RS256.
		if algs, ok := strs("id_token_signing_alg_values_supported"); !ok || !slices.Contains(algs, "RS256") {
			t.Errorf("id_token_signing_alg_values_supported = %v, want RS256 among them", doc["id_token_signing_alg_values_supported"])
		}
		// OIDCCCheckDiscEndpointUserinfoSigningAlgValuesSupported: an array when present.
		if _, present := doc["userinfo_signing_alg_values_supported"]; present {
			if _, ok := strs("userinfo_signing_alg_values_supported"); !ok {
				t.Errorf("userinfo_signing_alg_values_supported = %v, want an array of strings", doc["userinfo_signing_alg_values_supported"])
			}
		}

		// CheckDiscEndpointAuthorizationEndpoint, CheckDiscEndpointTokenEndpoint,
		// CheckDiscEndpointUserinfoEndpoint, CheckDiscEndpointRegistrationEndpoint,
		// CheckJwksUri and CheckDiscEndpointAllEndpointsAreHttps: every
		// endpoint is an absolute URL of this issuer. (The suite wants
		// https; the test server's issuer is http on loopback, which the
		// configuration allows only there.)
		endpoints := []string{"jwks_uri"}
		for k := range doc {
			if strings.HasSuffix(k, "_endpoint") {
				endpoints = append(endpoints, k)
			}
		}
		for _, k := range []string{"authorization_endpoint", "token_endpoint", "userinfo_endpoint", "registration_endpoint", "jwks_uri"} {
			if !slices.Contains(endpoints, k) || str(k) == "" {
				t.Errorf("the discovery document has no %s", k)
			}
		}
		for _, k := range endpoints {
			u, err := url.Parse(str(k))
			if err != nil || !u.IsAbs() || !strings.HasPrefix(str(k), issuer+"/") {
				t.Errorf("%s = %v, want an absolute URL under the issuer %s", k, doc[k], issuer)
			}
		}

		// FetchServerKeys, ValidateServerJWKs,
		// EnsureServerJwksDoesNotContainPrivateOrSymmetricKeys; the keys
		// sign ID tokens in RS256.
		keys := dynServerKeys(t, s)
		rsa := 0
		for _, k := range keys {
			if k["kty"] == "RSA" {
				rsa++
			}
		}
		if rsa == 0 {
			t.Errorf("the JWKS has no RSA key to verify RS256 ID tokens: %v", keys)
		}

		// CheckDiscEndpointRequestParameterSupported,
		// CheckDiscEndpointRequestUriParameterSupported,
		// CheckDiscEndpointRequestObjectSigningAlgValuesSupportedIncludesRS256,
		// CheckDiscEndpointClaimsParameterSupported: request objects by value
		// and by reference, RS256-signed, and the claims parameter.
		for _, k := range []string{"request_parameter_supported", "request_uri_parameter_supported", "claims_parameter_supported"} {
			if doc[k] != true {
				t.Errorf("%s = %v, want true", k, doc[k])
			}
		}
		if algs, ok := strs("request_object_signing_alg_values_supported"); !ok || !slices.Contains(algs, "RS256") {
			t.Errorf("request_object_signing_alg_values_supported = %v, want RS256 among them", doc["request_object_signing_alg_values_supported"])
		}
		// OIDCCCheckDiscEndpointClaimsSupported: an array.
		if claims, ok := strs("claims_supported"); !ok || !slices.Contains(claims, "sub") {
			t.Errorf("claims_supported = %v, want an array of claim names with sub", doc["claims_supported"])
		}
		// OIDCCCheckDiscEndpointGrantTypesSupported (static client): when
		// present, a non-empty array.
		if _, present := doc["grant_types_supported"]; present {
			if gt, ok := strs("grant_types_supported"); !ok || !slices.Contains(gt, "authorization_code") {
				t.Errorf("grant_types_supported = %v, want a non-empty array with authorization_code", doc["grant_types_supported"])
			}
		}
		// CheckDiscEndpointScopesSupportedContainsOpenId,
		// CheckDiscEndpointScopesSupportedSyntax: openid, and each value a
		// scope-token of RFC 6749 Appendix A.4.
		scopes, ok := strs("scopes_supported")
		if !ok || !slices.Contains(scopes, "openid") {
			t.Errorf("scopes_supported = %v, want openid among them", doc["scopes_supported"])
		}
		for _, sc := range scopes {
			if sc == "" || strings.ContainsFunc(sc, func(r rune) bool { return r < 0x21 || r > 0x7e || r == '"' || r == '\\' }) {
				t.Errorf("scopes_supported has %q, which is not a scope-token", sc)
			}
		}
		// CheckDiscEndpointLocalesSyntax: arrays when present.
		for _, k := range []string{"ui_locales_supported", "claims_locales_supported"} {
			if _, present := doc[k]; present {
				if _, ok := strs(k); !ok {
					t.Errorf("%s = %v, want an array of language tags", k, doc[k])
				}
			}
		}
		// EnsureServerConfigurationCodeChallengeMethodsSupportedIsAnArray.
		if m, ok := strs("code_challenge_methods_supported"); !ok || !slices.Equal(m, []string{"S256"}) {
			t.Errorf("code_challenge_methods_supported = %v, want [S256]", doc["code_challenge_methods_supported"])
		}
	})
}

// oidcc-idtoken-rs256: a client that registered id_token_signed_response_alg RS256 gets RS256 ID tokens with a kid from the JWKS.
func TestOIDCCIdtokenRS256(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := dynNewServer(t, b)
		key := dynKey(t, false)
		meta := dynMetadata("oidcc-idtoken-rs256", key, dynRedirect(t))
		meta["id_token_signed_response_alg"] = "RS256" // AddIdTokenSigningAlgRS256ToDynamicRegistrationRequest
		c := dynRegister(t, s, meta, key)
		if c.reg.body["id_token_signed_response_alg"] != "RS256" {
			t.Errorf("the registration answer has id_token_signed_response_alg %v, want RS256", c.reg.body["id_token_signed_response_alg"])
		}

		_, idt := c.signInAndExchange(t)
		// EnsureIdTokenContainsKid, CheckIdTokenSignatureAlgorithm.
		if idt.header.Alg != "RS256" {
			t.Errorf("the ID token is signed with %q, want RS256", idt.header.Alg)
		}
		jwk, ok := dynServerKeys(t, s)[idt.header.Kid]
		if !ok || jwk["kty"] != "RSA" {
			t.Errorf("the ID token's kid %q is not an RSA key of the JWKS (%v)", idt.header.Kid, jwk)
		}
	})
}

// oidcc-userinfo-rs256: a client that registered userinfo_signed_response_alg RS256 gets UserInfo as an RS256 JWT from the issuer to it.
func TestOIDCCUserinfoRS256(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := dynNewServer(t, b)
		// CheckDiscEndpointUserinfoSigningAlgValuesSupportedContainsRS256.
		if algs, _ := discovery(t, s, "/.well-known/openid-configuration")["userinfo_signing_alg_values_supported"].([]any); !slices.Contains(algs, any("RS256")) {
			t.Errorf("userinfo_signing_alg_values_supported = %v, want RS256 among them", algs)
		}
		key := dynKey(t, false)
		meta := dynMetadata("oidcc-userinfo-rs256", key, dynRedirect(t))
		meta["userinfo_signed_response_alg"] = "RS256" // AddUserinfoSignedResponseAlgRS256ToDynamicRegistrationRequest
		c := dynRegister(t, s, meta, key)

		tok, idt := c.signInAndExchange(t)
		resp, body := c.userinfo(t, tok.AccessToken)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("userinfo: status %d: %s", resp.StatusCode, body)
		}
		// EnsureContentTypeApplicationJwt.
		if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/jwt" {
			t.Errorf("userinfo Content-Type = %q, want application/jwt (OpenID Connect Core §5.3.2)", resp.Header.Get("Content-Type"))
		}
		// ValidateUserInfoResponseSignature (with the JWKS, by kid) and
		// ValidateUserInfoSigningAlgIsRS256.
		raw := string(body)
		h := dynJWSHeader(t, raw)
		if h.Alg != "RS256" {
			t.Errorf("the UserInfo JWT is signed with %q, want RS256", h.Alg)
		}
		if _, ok := dynServerKeys(t, s)[h.Kid]; !ok {
			t.Errorf("the UserInfo JWT's kid %q is not in the JWKS", h.Kid)
		}
		jwksURI, _ := discovery(t, s, "/.well-known/openid-configuration")["jwks_uri"].(string)
		payload, err := oidc.NewRemoteKeySet(t.Context(), jwksURI).VerifySignature(t.Context(), raw)
		if err != nil {
			t.Fatalf("the UserInfo JWT does not verify with the JWKS: %v", err)
		}
		var claims map[string]any
		if err := json.Unmarshal(payload, &claims); err != nil {
			t.Fatalf("the UserInfo JWT's claims are not JSON: %s", payload)
		}
		// ValidateSignedUserInfoResponseStandardJWTClaims: iss, aud, and
		// exp, iat, nbf sane when present.
		if claims["iss"] != s.URL {
			t.Errorf("UserInfo iss = %v, want %s", claims["iss"], s.URL)
		}
		switch aud := claims["aud"].(type) {
		case string:
			if aud != c.id {
				t.Errorf("UserInfo aud = %q, want %s", aud, c.id)
			}
		case []any:
			if !slices.Contains(aud, any(c.id)) {
				t.Errorf("UserInfo aud = %v, want it to hold %s", aud, c.id)
			}
		default:
			t.Errorf("UserInfo aud = %v, want %s", claims["aud"], c.id)
		}
		now := time.Now()
		if exp, ok := claims["exp"].(float64); ok && time.Unix(int64(exp), 0).Before(now.Add(-5*time.Minute)) {
			t.Errorf("UserInfo exp %v has passed", exp)
		}
		for _, k := range []string{"iat", "nbf"} {
			if v, ok := claims[k].(float64); ok && time.Unix(int64(v), 0).After(now.Add(5*time.Minute)) {
				t.Errorf("UserInfo %s %v is in the future", k, v)
			}
		}
		// EnsureUserInfoContainsSub (the ID token's, OpenID Connect Core
		// §5.3.2) and EnsureUserInfoDoesNotContainNonce.
		if claims["sub"] != idt.token.Subject {
			t.Errorf("UserInfo sub = %v, want the ID token's %q", claims["sub"], idt.token.Subject)
		}
		if _, ok := claims["nonce"]; ok {
			t.Errorf("UserInfo holds a nonce: %v", claims)
		}
		// go-oidc reads the signed answer too.
		info, err := c.op.UserInfo(t.Context(), oauth2.StaticTokenSource(tok))
		if err != nil {
			t.Fatalf("go-oidc userinfo: %v", err)
		}
		if info.Subject != idt.token.Subject {
			t.Errorf("go-oidc reads UserInfo sub %q, want %q", info.Subject, idt.token.Subject)
		}
	})
}

// oidcc-ensure-redirect-uri-in-authorization-request: an OpenID Connect request without redirect_uri is refused on the provider's error page, with one redirect URI registered or several.
func TestOIDCCEnsureRedirectUriInAuthorizationRequest(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := dynNewServer(t, b)
		unregistered := ""
		for _, tc := range []struct {
			name      string
			redirects int
		}{
			{"with one registered redirect URI the request is refused on the error page", 1},
			{"with two registered redirect URIs the request is refused on the error page", 2},
		} {
			t.Run(tc.name, func(t *testing.T) {
				key := dynKey(t, false)
				meta := dynMetadata("oidcc-ensure-redirect-uri-in-authorization-request", key, dynRedirect(t))
				if tc.redirects == 2 {
					meta["redirect_uris"] = []string{meta["redirect_uris"].([]string)[0], dynRedirect(t)}
				}
				c := dynRegister(t, s, meta, key)

				// RemoveRedirectUriFromAuthorizationEndpointRequest: OpenID
				// Connect Core §3.1.2.1 makes redirect_uri REQUIRED, however
				// many are registered.
				c.config.RedirectURL = ""
				az := c.authorization(t)
				if strings.Contains(az.url, "redirect_uri") {
					t.Fatalf("the request still has a redirect_uri: %s", az.url)
				}
				missing := dynErrorPage(t, s, s.newAgent(t).get(az.url))

				// The page says the address is missing, not that the app
				// asked for one it did not register (the screenshot the
				// module asks for).
				c.config.RedirectURL = c.redirect + "_unregistered"
				if unregistered == "" {
					unregistered = dynErrorPage(t, s, s.newAgent(t).get(c.authorization(t).url))
				}
				if missing == unregistered {
					t.Errorf("the error page for a missing redirect_uri says %q, the same as for an unregistered one", missing)
				}
			})
		}

		// RFC 6749 §3.1.2.3 lets a plain OAuth request (no openid scope)
		// of a client with one redirect URI leave it out: the refusal above
		// is OpenID Connect's.
		t.Run("a plain OAuth request of a client with one redirect URI may leave it out", func(t *testing.T) {
			key := dynKey(t, false)
			c := dynRegister(t, s, dynMetadata("oidcc-ensure-redirect-uri-in-authorization-request", key, dynRedirect(t)), key)
			c.config.RedirectURL = ""
			c.config.Scopes = []string{"read"}
			if p := s.newAgent(t).get(c.authorization(t).url); p.url.Path != "/login" {
				t.Errorf("status %d at %s, want the sign-in page:\n%s", p.status, p.url, p.body)
			}
		})
	})
}

// oidcc-redirect-uri-query-OK: a redirect URI registered with a query component is accepted as is, and the query is kept in the response.
func TestOIDCCRedirectUriQueryOK(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := dynNewServer(t, b)
		key := dynKey(t, false)
		redirect := dynRedirect(t) + "?bar=foo" // AddQueryToRedirectUri
		c := dynRegister(t, s, dynMetadata("oidcc-redirect-uri-query-OK", key, redirect), key)

		az := c.authorization(t)
		back := c.authorize(t, az.url)
		if got := back.Query()["bar"]; !slices.Equal(got, []string{"foo"}) {
			t.Errorf("the registered query component came back as bar=%v in %s, want bar=foo", got, back)
		}
		code := c.code(t, back, az.state)
		tok := c.exchange(t, code, c.op.Endpoint().TokenURL)
		c.idToken(t, tok, az.nonce)
	})
}

// oidcc-redirect-uri-query-mismatch: a redirect_uri whose query differs from the registered one is refused on the error page, never redirected to.
func TestOIDCCRedirectUriQueryMismatch(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := dynNewServer(t, b)
		key := dynKey(t, false)
		registered := dynRedirect(t) + "?bar=foo" // AddQueryToRedirectUri
		c := dynRegister(t, s, dynMetadata("oidcc-redirect-uri-query-mismatch", key, registered), key)

		// ReplaceRedirectUriQueryInAuthorizationRequest.
		c.config.RedirectURL = strings.Replace(registered, "?bar=foo", "?foo=bar", 1)
		dynErrorPage(t, s, s.newAgent(t).get(c.authorization(t).url))
	})
}

// oidcc-redirect-uri-query-added: a redirect_uri with a query added to the registered one is refused on the error page, never redirected to.
func TestOIDCCRedirectUriQueryAdded(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := dynNewServer(t, b)
		key := dynKey(t, false)
		registered := dynRedirect(t)
		c := dynRegister(t, s, dynMetadata("oidcc-redirect-uri-query-added", key, registered), key)

		// AddQueryToRedirectUriInAuthorizationRequest.
		c.config.RedirectURL = registered + "?foo=bar"
		dynErrorPage(t, s, s.newAgent(t).get(c.authorization(t).url))
	})
}

// oidcc-redirect-uri-regfrag: registering a redirect URI with a fragment is refused with a registration error.
func TestOIDCCRedirectUriRegfrag(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := dynNewServer(t, b)
		key := dynKey(t, false)
		meta := dynMetadata("oidcc-redirect-uri-regfrag", key, dynRedirect(t)+"#foobar") // AddFragmentToRedirectUri

		// CallDynamicRegistrationEndpointExpectingError,
		// CheckErrorFromDynamicRegistrationEndpointIsInvalidRequestOrInvalidConfigurationParameterOrInvalidRedirectUri.
		resp, body := s.registrationCall(t, http.MethodPost, "/register", "", meta)
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("registration with a fragment: status %d: %v; want 400", resp.StatusCode, body)
		}
		dynWantJSON(t, "the registration error", resp)
		if e := body["error"]; !slices.Contains([]any{"invalid_request", "invalid_configuration_parameter", "invalid_redirect_uri"}, e) {
			t.Errorf("error = %v, want invalid_redirect_uri (RFC 6749 §3.1.2: no fragment)", e)
		}
		if body["client_id"] != nil {
			t.Errorf("the refusal carries a client_id: %v", body)
		}
	})
}

// oidcc-registration-sector-uri: pairwise subjects are not offered (discovery lists public only, so the suite skips the module), and a registration with a sector_identifier_uri is refused cleanly without fetching it.
func TestOIDCCRegistrationSectorUri(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := dynNewServer(t, b)
		dynWantPublicSubjectsOnly(t, s)
		key := dynKey(t, false)
		redirect := dynRedirect(t)
		sector, hits := dynSectorHost(t, redirect) // CreateSectorRedirectUris: lists the redirect URI

		t.Run("pairwise with a sector_identifier_uri listing the redirect URI is invalid_client_metadata", func(t *testing.T) {
			meta := dynMetadata("oidcc-registration-sector-uri", key, redirect)
			meta["subject_type"] = "pairwise"      // AddSubjectTypePairwiseToDynamicRegistrationRequest
			meta["sector_identifier_uri"] = sector // AddSectorIdentifierUriToDynamicRegistrationRequest
			resp, body := s.registrationCall(t, http.MethodPost, "/register", "", meta)
			dynWantSectorRefused(t, resp, body, "subject_type")
		})
		t.Run("a sector_identifier_uri alone is invalid_client_metadata", func(t *testing.T) {
			meta := dynMetadata("oidcc-registration-sector-uri", key, redirect)
			meta["sector_identifier_uri"] = sector
			resp, body := s.registrationCall(t, http.MethodPost, "/register", "", meta)
			dynWantSectorRefused(t, resp, body, "sector_identifier_uri")
		})
		t.Run("subject_type public is registered", func(t *testing.T) {
			meta := dynMetadata("oidcc-registration-sector-uri", key, redirect)
			meta["subject_type"] = "public"
			dynRegister(t, s, meta, key)
		})
		if n := hits.Load(); n != 0 {
			t.Errorf("the sector_identifier_uri was fetched %d times for registrations that are refused anyway", n)
		}
	})
}

// oidcc-registration-sector-bad: a registration whose sector_identifier_uri does not list its redirect URI is refused with invalid_client_metadata.
func TestOIDCCRegistrationSectorBad(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := dynNewServer(t, b)
		dynWantPublicSubjectsOnly(t, s)
		key := dynKey(t, false)
		sector, hits := dynSectorHost(t, "https://elsewhere.example.com/callback") // CreateInvalidSectorRedirectUris
		meta := dynMetadata("oidcc-registration-sector-bad", key, dynRedirect(t))
		meta["subject_type"] = "pairwise"
		meta["sector_identifier_uri"] = sector

		// CallDynamicRegistrationEndpoint, EnsureContentTypeJson,
		// EnsureHttpStatusCodeIs400,
		// CheckErrorFromDynamicRegistrationEndpointIsInvalidClientMetadata.
		resp, body := s.registrationCall(t, http.MethodPost, "/register", "", meta)
		dynWantSectorRefused(t, resp, body, "subject_type")
		if body["client_id"] != nil {
			t.Errorf("the refusal carries a client_id: %v", body)
		}
		if n := hits.Load(); n != 0 {
			t.Errorf("the sector_identifier_uri was fetched %d times", n)
		}
	})
}

// oidcc-registration-jwks-uri: a client registered with a jwks_uri completes the code flow, its assertion verified with the key fetched from there.
func TestOIDCCRegistrationJwksUri(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := dynNewServer(t, b)
		key := dynKey(t, true) // GenerateRS256ClientJWKsWithKeyID
		host := newJWKSHost(t, key)
		meta := dynWithJWKSURI(dynMetadata("oidcc-registration-jwks-uri", key, dynRedirect(t)), host.url)
		c := dynRegister(t, s, meta, key)
		if c.reg.body["jwks_uri"] != host.url || c.reg.body["jwks"] != nil {
			t.Errorf("the registration answer has jwks_uri %v and jwks %v, want the jwks_uri only", c.reg.body["jwks_uri"], c.reg.body["jwks"])
		}

		tok, idt := c.signInAndExchange(t)
		if n := host.fetches(); n != 1 {
			t.Errorf("the jwks_uri was fetched %d times for one assertion, want once", n)
		}
		c.userinfoSub(t, tok.AccessToken, idt.token.Subject)
	})
}

// oidcc-server-rotate-keys: after a rotation the JWKS has the new key at once and keeps the old one; once active, the new key signs ID tokens that a go-oidc verifier holding the old JWKS verifies by fetching again.
func TestOIDCCServerRotateKeys(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		clock := storagetest.NewClock()
		s := dynNewServer(t, b, withClock(clock))
		ctx := t.Context()
		original := dynServerKeys(t, s) // "Fetch & validate current server keys"

		key := dynKey(t, false)
		meta := dynMetadata("oidcc-server-rotate-keys", key, dynRedirect(t))
		meta["grant_types"] = []string{"authorization_code", "refresh_token"}
		c := dynRegister(t, s, meta, key)
		// Refresh tokens only come with offline_access.
		c.config.Scopes = strings.Fields(dynOfflineScope)
		tok, first := c.signInAndExchange(t) // c.verifier caches the JWKS of before the rotation
		oldKid := first.header.Kid
		if _, ok := original[oldKid]; !ok {
			t.Fatalf("the ID token's kid %q is not in the JWKS %v", oldKid, original)
		}

		// TellUserToRotateOpKeys: a while later the operator rotates
		// (ajrly-auth keys rotate).
		clock.Advance(time.Minute)
		rotated, err := s.Provider.Keys().Rotate(ctx, provider.AlgRS256, false)
		if err != nil {
			t.Fatalf("rotate: %v", err)
		}
		if rotated.Replaced != oldKid || rotated.KID == oldKid || !rotated.SignsAt.Equal(clock.Now().Add(provider.KeyActivation)) {
			t.Fatalf("rotation = %+v, want a new key replacing %s that signs in %v", rotated, oldKid, provider.KeyActivation)
		}
		// "Fetch & validate new server keys", VerifyNewJwksHasNewSigningKey,
		// VerifyNewJwksStillHasOldSigningKey: published at once.
		published := dynServerKeys(t, s)
		if _, ok := published[rotated.KID]; !ok {
			t.Errorf("the new key %s is not published right after the rotation: %v", rotated.KID, published)
		}
		if _, ok := published[oldKid]; !ok {
			t.Errorf("the old key %s left the JWKS at the rotation", oldKid)
		}

		// Until it is active the old key still signs.
		refresh := func(rt string) (*oauth2.Token, dynIDToken) {
			t.Helper()
			resp, body := c.refresh(t, key, rt, "")
			next := tokenFrom(t, resp, body)
			raw, _ := next.Extra("id_token").(string)
			return next, c.verifyIDToken(t, c.verifier, raw, next.AccessToken, "")
		}
		tok, second := refresh(tok.RefreshToken)
		if second.header.Kid != oldKid {
			t.Errorf("an ID token right after the rotation has kid %q, want the old %q (the new key signs after %v)", second.header.Kid, oldKid, provider.KeyActivation)
		}

		// Past the activation, and once the keys are reloaded (the server
		// does it every minute), the new key signs. The verifier has not
		// seen it: go-oidc fetches the JWKS again for the unknown kid.
		clock.Advance(provider.KeyActivation + time.Minute)
		if err := s.Provider.Keys().Reload(ctx); err != nil {
			t.Fatalf("reload: %v", err)
		}
		_, third := refresh(tok.RefreshToken)
		if third.header.Kid != rotated.KID {
			t.Errorf("an ID token after the activation has kid %q, want the new %q", third.header.Kid, rotated.KID)
		}
		after := dynServerKeys(t, s)
		for _, kid := range []string{oldKid, rotated.KID} {
			if _, ok := after[kid]; !ok {
				t.Errorf("the JWKS after the activation lacks %s: %v", kid, after)
			}
		}
		// What the old key signed still verifies, for a verifier that
		// never saw the JWKS before.
		op, err := oidc.NewProvider(ctx, s.URL)
		if err != nil {
			t.Fatal(err)
		}
		c.verifyIDToken(t, op.Verifier(&oidc.Config{ClientID: c.id}), first.raw, "", first.token.Nonce)
	})
}

// oidcc-refresh-token-rp-key-rotation: after the client replaces its key at its jwks_uri, a refresh authenticated with the new kid succeeds at once, the provider fetching the key set again.
func TestOIDCCRefreshTokenRPKeyRotation(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		// The clock stands still: the key set cache and the refetch limit
		// (10 minutes, 30 s) count on it, so the fetch counts are exact.
		s := dynNewServer(t, b, withClock(storagetest.NewClock()))
		dynWantRefreshGrant(t, s)
		oldKey := dynKey(t, true) // GenerateRS256ClientJWKsWithKeyID, served at CreateJwksUri
		host := newJWKSHost(t, oldKey)
		meta := dynWithJWKSURI(dynMetadata("oidcc-refresh-token-rp-key-rotation", oldKey, dynRedirect(t)), host.url)
		meta["grant_types"] = []string{"authorization_code", "refresh_token"} // AddRefreshTokenGrantTypeToDynamicRegistrationRequest
		c := dynRegister(t, s, meta, oldKey)
		c.config.Scopes = strings.Fields(dynOfflineScope) // SetScopeInClientConfigurationToOpenIdOfflineAccess

		// AddPromptConsentToAuthorizationEndpointRequestIfScopeContainsOfflineAccess.
		tok, first := c.signInAndExchange(t, oauth2.SetAuthURLParam("prompt", "consent"))
		if tok.RefreshToken == "" || strings.ContainsFunc(tok.RefreshToken, func(r rune) bool { return r < 0x20 || r > 0x7e }) {
			t.Fatalf("refresh_token = %q, want one of RFC 6749 A.17 characters", tok.RefreshToken)
		}
		if n := host.fetches(); n != 1 {
			t.Fatalf("the jwks_uri was fetched %d times before the rotation, want once", n)
		}

		// "Cycling keys in RP jwks_uri": a new key with a new kid replaces
		// the old one. The suite then waits 60 s for servers that limit
		// refetching; this one fetches at once for an unknown kid.
		newKey := dynKey(t, true)
		host.serve(newKey)
		before := time.Now()
		resp, body := c.refresh(t, newKey, tok.RefreshToken, dynOfflineScope)
		after := time.Now()
		refreshed := dynRefreshed(t, tok, resp, body)
		if n := host.fetches(); n != 2 {
			t.Errorf("the jwks_uri was fetched %d times, want twice (once more for the new kid)", n)
		}
		second := c.idToken(t, refreshed, "")
		dynCompareRefreshedIDToken(t, first, second, before, after)

		// requestProtectedResource with the new access token.
		c.userinfoSub(t, refreshed.AccessToken, first.token.Subject)
	})
}

// oidcc-request-uri-unsigned: an unsigned request object fetched from a registered request_uri completes the authorization with its parameters.
func TestOIDCCRequestUriUnsigned(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := dynNewServer(t, b)
		dynWantRequestURISupport(t, s)
		host := dynNewRequestURIHost(t)
		requestURI := host.uri(t)
		key := dynKey(t, false)
		meta := dynMetadata("oidcc-request-uri-unsigned", key, dynRedirect(t))
		meta["request_uris"] = []string{requestURI} // AddRequestUriToDynamicRegistrationRequest
		c := dynRegister(t, s, meta, key)

		// SerializeRequestObjectWithNullAlgorithm.
		dynRequestURIFlow(t, c, host, requestURI, func(claims map[string]any) string { return dynUnsigned(t, claims) })
	})
}

// oidcc-request-uri-signed-rs256: an RS256 request object fetched from a registered request_uri is verified with the client's key and its parameters used; one signed by another key is refused.
func TestOIDCCRequestUriSignedRS256(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := dynNewServer(t, b)
		// CheckDiscEndpointRequestObjectSigningAlgValuesSupportedContainsRS256.
		if algs, _ := dynWantRequestURISupport(t, s)["request_object_signing_alg_values_supported"].([]any); !slices.Contains(algs, any("RS256")) {
			t.Errorf("request_object_signing_alg_values_supported = %v, want RS256 among them", algs)
		}
		host := dynNewRequestURIHost(t)
		requestURI := host.uri(t)
		key := dynKey(t, false)
		meta := dynMetadata("oidcc-request-uri-signed-rs256", key, dynRedirect(t))
		meta["request_uris"] = []string{requestURI}
		meta["request_object_signing_alg"] = "RS256" // AddRequestObjectSigningAlgRS256ToDynamicRegistrationRequest
		c := dynRegister(t, s, meta, key)

		// AddAudToRequestObject, AddIssToRequestObject, SignRequestObject.
		signWith := func(k clientKey) func(map[string]any) string {
			return func(claims map[string]any) string {
				claims["aud"], claims["iss"] = s.URL, c.id
				return k.sign(t, claims)
			}
		}
		dynRequestURIFlow(t, c, host, requestURI, signWith(key))

		t.Run("an object signed by a key the client does not have is invalid_request_object", func(t *testing.T) {
			az := dynAuthz{state: randomString(t), nonce: randomString(t)}
			host.object.Store(signWith(dynKey(t, false))(c.requestObjectClaims(az, c.redirect)))
			p := s.newAgent(t).get(c.requestObjectURL("request_uri", requestURI, c.redirect))
			back := redirectOf(p)
			if back == nil || dynWithoutQuery(back) != c.redirect {
				t.Fatalf("status %d at %s, want a redirect to %s with the error", p.status, p.url, c.redirect)
			}
			if q := back.Query(); q.Get("error") != "invalid_request_object" || q.Has("code") {
				t.Errorf("the forged object answered %s, want error=invalid_request_object and no code", back.RawQuery)
			}
		})
	})
}

// oidcc-ensure-client-assertion-with-iss-aud-succeeds: a client assertion whose aud is the issuer rather than the token endpoint is accepted at the token endpoint.
func TestOIDCCEnsureClientAssertionWithIssAudSucceeds(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := dynNewServer(t, b)
		key := dynKey(t, false)
		c := dynRegister(t, s, dynMetadata("oidcc-ensure-client-assertion-with-iss-aud-succeeds", key, dynRedirect(t)), key)

		az := c.authorization(t)
		code := c.code(t, c.authorize(t, az.url), az.state)
		// UpdateClientAuthenticationAssertionClaimsWithISSAud.
		tok := c.exchange(t, code, s.URL)
		c.idToken(t, tok, az.nonce)
	})
}

// oidcc-server (Dynamic OP, registered at /register with private_key_jwt): the happy code flow, from registration to a verified ID token, UserInfo and unregistration.
func TestOIDCCServerDynamic(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := dynNewServer(t, b)
		key := dynKey(t, false)
		meta := dynMetadata("oidcc-server", key, dynRedirect(t))
		c := dynRegister(t, s, meta, key)
		if c.reg.token == "" || c.reg.uri != s.URL+"/register/"+c.id {
			t.Errorf("registration_access_token %q, registration_client_uri %q: want both (RFC 7592)", c.reg.token, c.reg.uri)
		}

		tok, idt := c.signInAndExchange(t)
		// EnsureIdTokenDoesNotContainName: scope openid alone releases no
		// profile claims in the ID token.
		if _, ok := idt.claims["name"]; ok {
			t.Errorf("an ID token for scope openid holds name: %v", idt.claims)
		}
		if idt.token.AccessTokenHash == "" {
			t.Error("the ID token has no at_hash")
		}
		c.userinfoSub(t, tok.AccessToken, idt.token.Subject)

		// UnregisterDynamicallyRegisteredClient.
		resp, out := s.registrationCall(t, http.MethodDelete, "/register/"+c.id, c.reg.token, nil)
		if resp.StatusCode != http.StatusNoContent {
			t.Errorf("unregister: status %d: %v; want 204", resp.StatusCode, out)
		}
	})
}

// oidcc-ensure-request-object-with-redirect-uri (Dynamic OP): the redirect_uri in an unsigned request object wins over a different one in the query.
func TestOIDCCEnsureRequestObjectWithRedirectUriDynamic(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := dynNewServer(t, b)
		key := dynKey(t, false)
		c := dynRegister(t, s, dynMetadata("oidcc-ensure-request-object-with-redirect-uri", key, dynRedirect(t)), key)

		// ConvertAuthorizationEndpointRequestToRequestObject,
		// AddAudToRequestObject, AddIssToRequestObject,
		// SerializeRequestObjectWithNullAlgorithm; then
		// AddInvalidRedirectUriToAuthorizationRequest puts another
		// redirect_uri in the query.
		az := dynAuthz{state: randomString(t), nonce: randomString(t)}
		claims := c.requestObjectClaims(az, c.redirect)
		claims["aud"], claims["iss"] = s.URL, c.id
		authURL := c.requestObjectURL("request", dynUnsigned(t, claims), c.redirect+"_invalid")

		code := c.code(t, c.authorize(t, authURL), az.state)
		tok := c.exchange(t, code, c.op.Endpoint().TokenURL)
		c.idToken(t, tok, az.nonce)
	})
}

// oidcc-refresh-token (Dynamic OP): a refresh returns new tokens and an ID token consistent with the first, and a refresh token works only for the client it was issued to.
func TestOIDCCRefreshTokenDynamic(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := dynNewServer(t, b)
		dynWantRefreshGrant(t, s)
		register := func() *dynClient {
			key := dynKey(t, false)
			meta := dynMetadata("oidcc-refresh-token", key, dynRedirect(t))
			meta["grant_types"] = []string{"authorization_code", "refresh_token"} // AddRefreshTokenGrantTypeToDynamicRegistrationRequest
			c := dynRegister(t, s, meta, key)
			c.config.Scopes = strings.Fields(dynOfflineScope)
			return c
		}
		// flow runs one client's authorization and refresh; the second
		// client sends no scope (RefreshTokenRequestSteps).
		flow := func(c *dynClient, scope string) *oauth2.Token {
			t.Helper()
			tok, first := c.signInAndExchange(t, oauth2.SetAuthURLParam("prompt", "consent"))
			// ExtractRefreshTokenFromTokenResponse, EnsureRefreshTokenContainsAllowedCharactersOnly.
			if tok.RefreshToken == "" || strings.ContainsFunc(tok.RefreshToken, func(r rune) bool { return r < 0x20 || r > 0x7e }) {
				t.Fatalf("refresh_token = %q, want one of RFC 6749 A.17 characters", tok.RefreshToken)
			}
			before := time.Now()
			resp, body := c.refresh(t, c.key, tok.RefreshToken, scope)
			after := time.Now()
			refreshed := dynRefreshed(t, tok, resp, body)
			dynCompareRefreshedIDToken(t, first, c.idToken(t, refreshed, ""), before, after)
			c.userinfoSub(t, refreshed.AccessToken, first.token.Subject)
			if refreshed.RefreshToken == "" {
				return tok // the old one stays valid when none is returned
			}
			return refreshed
		}
		client1, client2 := register(), register()
		flow(client1, dynOfflineScope)
		tok2 := flow(client2, "")

		// performSecondClientTests, RefreshTokenRequestExpectingErrorSteps:
		// client 2's refresh token sent by client 1 is 400 invalid_grant.
		resp, body := client1.refresh(t, client1.key, tok2.RefreshToken, dynOfflineScope)
		dynWantJSON(t, "the refusal", resp)
		if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_grant" || body["access_token"] != nil {
			t.Errorf("another client's refresh token: status %d, %v; want 400 invalid_grant", resp.StatusCode, body)
		}
	})
}

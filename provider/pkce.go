package provider

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"regexp"
	"strings"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/pkce"
)

var _ fosite.TokenEndpointHandler = (*pkceHandler)(nil)

// pkceHandler is PKCE (RFC 7636) with S256 only. It keeps fosite's
// authorization-endpoint half, which stores the challenge with the code,
// and replaces the token-endpoint half: fosite deletes the stored challenge
// before it checks the verifier, so after one wrong guess the code would
// redeem with no verifier at all. Here the challenge stays bound to the
// code until the code expires (the janitor removes it); the code itself is
// single use.
type pkceHandler struct {
	*pkce.Handler
	codes   oauth2.AuthorizeCodeStrategy
	storage pkce.PKCERequestStorage
}

var verifierFormat = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// HandleTokenEndpointRequest checks the code_verifier (RFC 7636 §4.6).
func (h *pkceHandler) HandleTokenEndpointRequest(ctx context.Context, request fosite.AccessRequester) error {
	if !h.CanHandleTokenEndpointRequest(ctx, request) {
		return fosite.ErrUnknownRequest
	}
	form := request.GetRequestForm()
	verifier := form.Get("code_verifier")
	signature := h.codes.AuthorizeCodeSignature(ctx, form.Get("code"))
	stored, err := h.storage.GetPKCERequestSession(ctx, signature, NewSession())
	if errors.Is(err, fosite.ErrNotFound) {
		switch {
		case verifier != "":
			// RFC 9700 §4.8.2: a verifier for a code issued without a
			// challenge is refused, so that PKCE cannot be downgraded.
			return fosite.ErrInvalidGrant.WithHint("The code_verifier was sent but the authorization request had no code_challenge.")
		case request.GetClient().IsPublic():
			return fosite.ErrInvalidGrant.WithHint("Public clients must use PKCE.")
		}
		return nil
	} else if err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	challenge := stored.GetRequestForm().Get("code_challenge")
	if stored.GetRequestForm().Get("code_challenge_method") != "S256" {
		return fosite.ErrInvalidGrant.WithHint("The code was issued with an unsupported code_challenge_method.")
	}
	if verifier == "" {
		return fosite.ErrInvalidGrant.WithHint("The code_verifier is missing.")
	}
	if !verifierFormat.MatchString(verifier) {
		return fosite.ErrInvalidGrant.WithHint("The code_verifier must be 43 to 128 characters of [A-Za-z0-9._~-].")
	}
	sum := sha256.Sum256([]byte(verifier))
	if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) != 1 {
		return fosite.ErrInvalidGrant.WithHint("The code_verifier does not match the code_challenge.")
	}
	return nil
}

// CheckAuthorizeRequest applies, as soon as /authorize is called and before
// the person is asked anything, the rules fosite would otherwise check only
// when the request is answered: response_type=code only (RFC 9700 §2.1.2),
// the prompt values (OpenID Connect Core §3.1.2.1), the claims parameter
// (§5.5) and PKCE.
func CheckAuthorizeRequest(ar fosite.AuthorizeRequester) error {
	if !ar.GetResponseTypes().ExactOne("code") {
		return fosite.ErrUnsupportedResponseType.WithHint("Only response_type=code is supported.")
	}
	prompts := strings.Fields(ar.GetRequestForm().Get("prompt"))
	for _, p := range prompts {
		if p != "none" && p != "login" && p != "consent" && p != "select_account" {
			return fosite.ErrInvalidRequest.WithHintf("The prompt value %q is not supported.", p)
		}
		if p == "none" && len(prompts) > 1 {
			return fosite.ErrInvalidRequest.WithHint("prompt=none cannot be combined with other values.")
		}
	}
	if _, err := ParseClaimsRequest(ar.GetRequestForm().Get("claims")); err != nil {
		return err
	}
	return CheckPKCE(ar)
}

// challengeFormat is what S256 produces: 32 bytes, base64url, no padding.
var challengeFormat = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// CheckPKCE applies the PKCE rules to an authorization request before the
// person is asked to sign in, rather than after they consent: S256 only,
// required for public clients (RFC 7636, RFC 9700 §2.1.1).
func CheckPKCE(ar fosite.AuthorizeRequester) error {
	challenge := ar.GetRequestForm().Get("code_challenge")
	method := ar.GetRequestForm().Get("code_challenge_method")
	switch {
	case challenge == "" && method == "":
		if ar.GetClient().IsPublic() {
			return fosite.ErrInvalidRequest.WithHint("This client is public and must use PKCE: send code_challenge with code_challenge_method=S256.")
		}
		return nil
	case method != "S256":
		return fosite.ErrInvalidRequest.WithHint("Only code_challenge_method=S256 is supported.")
	case !challengeFormat.MatchString(challenge):
		return fosite.ErrInvalidRequest.WithHint("The code_challenge must be the base64url SHA-256 of the code_verifier (43 characters).")
	}
	return nil
}

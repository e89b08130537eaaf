package provider

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/ory/fosite"

	"github.com/ajrly/ajrly-auth/provider/clients"
)

// tokenGrants are the grant types the token endpoint serves.
var tokenGrants = []string{clients.GrantAuthorizationCode, clients.GrantRefreshToken, clients.GrantClientCredentials, GrantTypeTokenExchange}

// repeatable are the token request parameters that may be sent more than
// once: RFC 8693 §2.1 (audience) and RFC 8707 §2 (resource).
var repeatable = []string{"audience", "resource"}

// tokenRequestError is an RFC 6749 §5.2 error whose description is the
// one sentence given. fosite's sentinels open with a description that
// lists every way a request can be wrong (a missing parameter, a repeated
// one, a redirect_uri not registered…), which names parameters the
// request never involved.
func tokenRequestError(code string, description string) *fosite.RFC6749Error {
	return &fosite.RFC6749Error{ErrorField: code, DescriptionField: description, CodeField: http.StatusBadRequest}
}

// CheckTokenRequest checks a token request's form before fosite reads it,
// so that each mistake gets its RFC 6749 §5.2 code and a description that
// names what is wrong: a parameter sent twice (§3.2) or a missing
// grant_type is invalid_request, a grant type this server does not serve
// unsupported_grant_type, and a missing parameter the grant requires
// invalid_request (fosite would look up an empty code or refresh token and
// answer invalid_grant). Before all that, it bounds the work: at most
// MaxScopes scopes and MaxAudiences audiences. The redirect_uri is always
// required for a code:
// /authorize requires it, and §4.1.3 then requires it here.
func CheckTokenRequest(form url.Values) error {
	if err := checkTokenBounds(form); err != nil {
		return err
	}
	var repeated []string
	for k, v := range form {
		if len(v) > 1 && !slices.Contains(repeatable, k) {
			repeated = append(repeated, k)
		}
	}
	if len(repeated) > 0 {
		slices.Sort(repeated)
		return tokenRequestError("invalid_request", "Each parameter may be sent once (RFC 6749 §3.2); this request repeats "+
			listNames(repeated)+".")
	}
	grant := form.Get("grant_type")
	if grant == "" {
		return tokenRequestError("invalid_request", "The grant_type parameter is missing.")
	}
	if !slices.Contains(tokenGrants, grant) {
		return tokenRequestError("unsupported_grant_type", "The grant_type is not one this server supports.")
	}
	var required []string
	switch grant {
	case clients.GrantAuthorizationCode:
		required = []string{"code", "redirect_uri"}
	case clients.GrantRefreshToken:
		required = []string{"refresh_token"}
	case GrantTypeTokenExchange:
		required = []string{"subject_token", "subject_token_type"}
	}
	var missing []string
	for _, p := range required {
		if form.Get(p) == "" {
			missing = append(missing, p)
		}
	}
	switch {
	case len(missing) == 1:
		return tokenRequestError("invalid_request", "The "+missing[0]+" parameter is missing.")
	case len(missing) > 1:
		return tokenRequestError("invalid_request", "The "+listNames(missing)+" parameters are missing.")
	}
	if grant == GrantTypeTokenExchange && form.Get("subject_token_type") != TokenTypeAPIKey {
		// RFC 8693 §2.2.2: a subject token this server cannot take is
		// invalid_request.
		return tokenRequestError("invalid_request", "The subject_token_type must be "+TokenTypeAPIKey+" (an sk_live_ API key).")
	}
	return nil
}

// listNames joins parameter names as English: "a", "a and b", "a, b and c".
func listNames(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// grantDescriptions describe invalid_grant for each grant, in place of
// fosite's, which speaks of authorization codes, redirection URIs and
// refresh tokens whatever the grant: the short one goes before a handler's
// hint, the long one stands alone.
var grantDescriptions = map[string][2]string{
	clients.GrantAuthorizationCode: {"The authorization code cannot be redeemed.",
		"The authorization code is unknown, expired, already used, or was issued to another client."},
	clients.GrantRefreshToken: {"The refresh token cannot be used.",
		"The refresh token is unknown, expired, revoked, or was issued to another client."},
}

// TokenError is the error to answer a token request fosite refused, or
// could not answer, with. Three things fosite's handlers say are corrected
// by what the request was, never by their wording:
//   - an authenticated client that is not allowed the grant it asked for is
//     unauthorized_client (RFC 6749 §5.2), whatever else is wrong: fosite
//     checks it only after the scopes for client_credentials, and calls a
//     public client asking for it invalid_grant;
//   - a refresh token that fails its integrity check is invalid_grant
//     (§5.2: "invalid … refresh token"), not fosite's catch-all
//     invalid_request, whose default hint is about redirect_uri;
//   - invalid_grant and invalid_request describe only what the grant
//     involves, with the handler's hint.
//
// ar is what fosite returned (nil, or without a client when client
// authentication failed).
func TokenError(ar fosite.AccessRequester, err error) error {
	rfc := fosite.ErrorToRFC6749Error(err)
	if rfc.CodeField >= http.StatusInternalServerError {
		return err
	}
	grant := ""
	if ar != nil && len(ar.GetGrantTypes()) == 1 {
		grant = ar.GetGrantTypes()[0]
	}
	// fosite's requests start with an empty client, which stays when
	// client authentication fails.
	client := fosite.Client(nil)
	if ar != nil && ar.GetClient() != nil && ar.GetClient().GetID() != "" {
		client = ar.GetClient()
	}
	if client != nil && grant != "" && !client.GetGrantTypes().Has(grant) {
		return fosite.ErrUnauthorizedClient.WithHintf("This client is not allowed the %s grant.", grant).WithWrap(err)
	}
	hint := rfc.HintField
	if hint == fosite.ErrInvalidRequest.HintField {
		hint = "" // the sentinel's own, about redirect_uri
	}
	switch rfc.ErrorField {
	case fosite.ErrInvalidRequest.ErrorField:
		if grant == clients.GrantRefreshToken && client != nil {
			// With the client authenticated and CheckTokenRequest passed,
			// the refresh handler's only invalid_request is a token whose
			// HMAC does not match the row its signature found.
			return tokenRequestError(fosite.ErrInvalidGrant.ErrorField, grantDescriptions[clients.GrantRefreshToken][1]).
				WithWrap(err).WithDebug(rfc.DebugField)
		}
		return describe(rfc, "The request is not valid.", hint)
	case fosite.ErrInvalidGrant.ErrorField:
		d, ok := grantDescriptions[grant]
		switch {
		case !ok:
			return describe(rfc, "The grant is not valid.", hint)
		case hint == "":
			return describe(rfc, d[1], "")
		}
		return describe(rfc, d[0], hint)
	}
	return err
}

// describe is rfc with description and hint in place of its own.
func describe(rfc *fosite.RFC6749Error, description, hint string) *fosite.RFC6749Error {
	out := rfc.WithDescription(description)
	out.HintField = hint
	return out
}

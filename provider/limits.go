package provider

import (
	"net/url"
	"slices"
	"strings"

	"github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"

	"github.com/ajrly/ajrly-auth/provider/clients"
)

// Caps on what an authorization request may carry. A flow stores the
// request's parameters until the person signs in and consents (up to the
// flow lifetime, 30 minutes by default) before anyone has authenticated,
// so what one anonymous request can make the server keep must be small.
//
// MaxParameterBytes fits every value a real request sends: redirect URIs,
// state and nonce values, hints and locale lists are a few hundred bytes
// at most. A claims request (OpenID Connect Core §5.5) and an
// id_token_hint (an ID token we signed: RS256 signature, header and a
// dozen claims, the nonce among them) run longer, so they get
// MaxLongParameterBytes. MaxAuthorizeFormBytes bounds the stored form as
// a whole, a little over what a request with a long claims parameter and
// an ID token hint together needs.
const (
	MaxParameterBytes     = 2 << 10
	MaxLongParameterBytes = 4 << 10
	MaxAuthorizeFormBytes = 8 << 10
	// MaxScopes is the most scopes a request may name, as many as a client
	// may register: fosite grants requested scopes one by one with a
	// linear search each (Request.GrantScope), so n scopes cost n²
	// comparisons.
	MaxScopes = clients.MaxScopes
	// MaxAudiences is the most audience (or resource) values a request
	// may name; fosite grants audiences in O(n²) too.
	MaxAudiences = 10
)

// authorizeParameter is an authorization request parameter kept in the
// stored flow, with the longest value it may have.
type authorizeParameter struct {
	name  string
	limit int
}

// authorizeParameters are the parameters the authorization endpoint,
// fosite and the pages read (RFC 6749 §4.1.1, RFC 7636 §4.3, OpenID
// Connect Core §3.1.2.1 and §5.5, fosite's audience), in name order so
// that a refusal always names the same one.
var authorizeParameters = []authorizeParameter{
	{"acr_values", MaxParameterBytes},
	{"audience", MaxParameterBytes},
	{"claims", MaxLongParameterBytes},
	{"claims_locales", MaxParameterBytes},
	{"client_id", MaxParameterBytes},
	{"code_challenge", MaxParameterBytes},
	{"code_challenge_method", MaxParameterBytes},
	{"display", MaxParameterBytes},
	{"id_token_hint", MaxLongParameterBytes},
	{"login_hint", MaxParameterBytes},
	{"max_age", MaxParameterBytes},
	{"nonce", MaxParameterBytes},
	{"prompt", MaxParameterBytes},
	{"redirect_uri", MaxParameterBytes},
	{"response_mode", MaxParameterBytes},
	{"response_type", MaxParameterBytes},
	{"scope", MaxParameterBytes},
	{"state", MaxParameterBytes},
	{"ui_locales", MaxParameterBytes},
}

// multiValued are the parameters fosite reads as lists when repeated
// (fosite.GetAudiences).
var multiValued = []string{"audience"}

// AuthorizeParameters returns the authorization parameters of form that
// the server acts on, each checked against its cap, ready to be parsed
// and stored. Unknown parameters are dropped: OpenID Connect Core
// §3.1.2.1 has them ignored, and storing them let one anonymous request
// park a megabyte in the database. request and request_uri are dropped
// too: they are resolved before (ResolveRequestObject), never stored.
//
// A value over its cap, more than MaxScopes scopes or MaxAudiences
// audiences, a parameter repeated with different values (RFC 6749 §3.1:
// parameters "MUST NOT be included more than once"; fosite would quietly
// take the first) or a whole over MaxAuthorizeFormBytes is refused with
// invalid_request (invalid_scope for the scopes).
func AuthorizeParameters(form url.Values) (url.Values, error) {
	out := url.Values{}
	for _, p := range authorizeParameters {
		values, ok := form[p.name]
		if !ok {
			continue
		}
		if p.name == "scope" { // the count first: it is the cap that says why
			for _, v := range values {
				if err := CheckScopeCount(v); err != nil {
					return nil, err
				}
			}
		}
		for _, v := range values {
			if len(v) > p.limit {
				return nil, fosite.ErrInvalidRequest.WithHintf("The %s parameter is longer than %d bytes.", p.name, p.limit)
			}
		}
		if slices.Contains(multiValued, p.name) {
			if len(fosite.GetAudiences(url.Values{p.name: values})) > MaxAudiences {
				return nil, fosite.ErrInvalidRequest.WithHintf("At most %d %s values may be sent.", MaxAudiences, p.name)
			}
			out[p.name] = slices.Clone(values)
			continue
		}
		for _, v := range values[1:] {
			if v != values[0] {
				return nil, fosite.ErrInvalidRequest.WithHintf("The %s parameter is sent more than once with different values.", p.name)
			}
		}
		out.Set(p.name, values[0])
	}
	if len(out.Encode()) > MaxAuthorizeFormBytes {
		return nil, fosite.ErrInvalidRequest.WithHintf("The authorization request's parameters are longer than %d KiB together.", MaxAuthorizeFormBytes>>10)
	}
	return out, nil
}

// redirectParameters are what an error needs to be sent back to the
// client (RFC 6749 §4.1.2.1): who it is, where, in which response mode,
// and its state.
var redirectParameters = []string{"client_id", "redirect_uri", "response_type", "response_mode", "state"}

// RedirectParameters returns the parameters of form that let a refusal
// go back to the client: client_id, redirect_uri, response_type,
// response_mode and state, each only when it is sent once and within its
// cap. It is for answering a request AuthorizeParameters refused. When
// the client_id or redirect_uri sent cannot be used, it returns none: an
// invalid redirect URI must never be redirected to (RFC 6749 §4.1.2.1),
// and without it fosite would fall back to the one registered.
func RedirectParameters(form url.Values) url.Values {
	out := url.Values{}
	for _, name := range redirectParameters {
		v, sent := form[name]
		switch {
		case len(v) == 1 && len(v[0]) <= MaxParameterBytes:
			out.Set(name, v[0])
		case sent && (name == "client_id" || name == "redirect_uri"):
			return url.Values{}
		}
	}
	return out
}

// CheckScopeCount refuses a scope parameter of more than MaxScopes
// names, counted as fosite splits it (on spaces, empty names skipped),
// without splitting more than it must.
func CheckScopeCount(scope string) error {
	n := 0
	for name := range strings.SplitSeq(scope, " ") {
		if name == "" {
			continue
		}
		if n++; n > MaxScopes {
			return fosite.ErrInvalidScope.WithHintf("A request may name at most %d scopes.", MaxScopes)
		}
	}
	return nil
}

// checkTokenBounds bounds a token request's form (RFC 6749 §3.2) before
// fosite reads it: at most MaxScopes scopes and MaxAudiences audience or
// resource values, since fosite and the API-key exchange grant them one
// by one in O(n²).
func checkTokenBounds(form url.Values) error {
	if err := CheckScopeCount(form.Get("scope")); err != nil {
		return err
	}
	if len(fosite.GetAudiences(form)) > MaxAudiences || len(form["resource"]) > MaxAudiences {
		return fosite.ErrInvalidRequest.WithHintf("At most %d audience or resource values may be sent.", MaxAudiences)
	}
	return nil
}

// dropWeakKeys removes from a key set the keys StrongKey refuses, so a
// key set fetched from a client's jwks_uri never verifies with them.
func dropWeakKeys(set *jose.JSONWebKeySet) {
	set.Keys = slices.DeleteFunc(set.Keys, func(k jose.JSONWebKey) bool { return !clients.StrongKey(k.Key) })
}

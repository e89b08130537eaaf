package oauth

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/provider/clients"
	"github.com/ajrly/ajrly-auth/provider/tenancy"
)

// Discovery serves the OpenID Provider metadata (OpenID Connect Discovery
// 1.0, RFC 8414) and the JWKS.
type Discovery struct {
	keys     *provider.KeySet
	metadata []byte // encoded once: it changes only with the binary
}

// Metadata is the discovery document.
type Metadata struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint"`
	TokenEndpoint                              string   `json:"token_endpoint"`
	UserinfoEndpoint                           string   `json:"userinfo_endpoint"`
	JWKSURI                                    string   `json:"jwks_uri"`
	IntrospectionEndpoint                      string   `json:"introspection_endpoint"`
	RevocationEndpoint                         string   `json:"revocation_endpoint"`
	EndSessionEndpoint                         string   `json:"end_session_endpoint"`
	RegistrationEndpoint                       string   `json:"registration_endpoint,omitempty"`
	ScopesSupported                            []string `json:"scopes_supported"`
	ResponseTypesSupported                     []string `json:"response_types_supported"`
	ResponseModesSupported                     []string `json:"response_modes_supported"`
	GrantTypesSupported                        []string `json:"grant_types_supported"`
	SubjectTypesSupported                      []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported           []string `json:"id_token_signing_alg_values_supported"`
	UserinfoSigningAlgValuesSupported          []string `json:"userinfo_signing_alg_values_supported"`
	RequestObjectSigningAlgValuesSupported     []string `json:"request_object_signing_alg_values_supported"`
	RequireRequestURIRegistration              bool     `json:"require_request_uri_registration"`
	ClaimTypesSupported                        []string `json:"claim_types_supported"`
	DisplayValuesSupported                     []string `json:"display_values_supported"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported"`
	TokenEndpointAuthSigningAlgValuesSupported []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	IntrospectionEndpointAuthMethodsSupported  []string `json:"introspection_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethodsSupported     []string `json:"revocation_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported"`
	ClaimsSupported                            []string `json:"claims_supported"`
	PromptValuesSupported                      []string `json:"prompt_values_supported"`
	ClaimsParameterSupported                   bool     `json:"claims_parameter_supported"`
	RequestParameterSupported                  bool     `json:"request_parameter_supported"`
	RequestURIParameterSupported               bool     `json:"request_uri_parameter_supported"`
	AuthorizationResponseIssParameterSupport   bool     `json:"authorization_response_iss_parameter_supported"`
}

// BuildMetadata returns the discovery document of an issuer: exactly what
// this server implements; registration says whether /register is on.
func BuildMetadata(issuer string, registration bool) Metadata {
	secretMethods := []string{clients.AuthSecretBasic, clients.AuthSecretPost, clients.AuthPrivateKeyJWT}
	m := Metadata{
		Issuer:                                     issuer,
		AuthorizationEndpoint:                      issuer + "/authorize",
		TokenEndpoint:                              issuer + "/token",
		UserinfoEndpoint:                           issuer + "/userinfo",
		JWKSURI:                                    issuer + "/.well-known/jwks.json",
		IntrospectionEndpoint:                      issuer + "/introspect",
		RevocationEndpoint:                         issuer + "/revoke",
		EndSessionEndpoint:                         issuer + "/logout",
		ScopesSupported:                            tenancy.Names(),
		ResponseTypesSupported:                     []string{"code"},
		ResponseModesSupported:                     []string{"query", "fragment", "form_post"},
		GrantTypesSupported:                        []string{"authorization_code", "refresh_token", "client_credentials", provider.GrantTypeTokenExchange},
		SubjectTypesSupported:                      []string{"public"},
		IDTokenSigningAlgValuesSupported:           clients.IDTokenAlgorithms,
		UserinfoSigningAlgValuesSupported:          clients.UserinfoAlgorithms,
		RequestObjectSigningAlgValuesSupported:     clients.RequestObjectAlgorithms,
		RequireRequestURIRegistration:              true,
		ClaimTypesSupported:                        []string{"normal"},
		DisplayValuesSupported:                     []string{"page", "popup", "touch", "wap"},
		ClaimsParameterSupported:                   true,
		RequestParameterSupported:                  true,
		RequestURIParameterSupported:               true,
		TokenEndpointAuthMethodsSupported:          append(secretMethods, "none"),
		TokenEndpointAuthSigningAlgValuesSupported: clients.AssertionAlgorithms,
		IntrospectionEndpointAuthMethodsSupported:  secretMethods,
		RevocationEndpointAuthMethodsSupported:     append(secretMethods, clients.AuthNone),
		CodeChallengeMethodsSupported:              []string{"S256"},
		ClaimsSupported: []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "amr",
			"name", "email", "email_verified", "org"},
		PromptValuesSupported:                    []string{"none", "login", "consent"},
		AuthorizationResponseIssParameterSupport: true,
	}
	if registration {
		m.RegistrationEndpoint = issuer + "/register"
	}
	return m
}

func newDiscovery(kit *web.Kit, p *provider.Provider, registration bool) (*Discovery, error) {
	b, err := json.Marshal(BuildMetadata(p.Issuer(), registration))
	if err != nil {
		return nil, fmt.Errorf("encode discovery document: %w", err)
	}
	return &Discovery{keys: p.Keys(), metadata: append(b, '\n')}, nil
}

// Mount registers the discovery routes.
func (d *Discovery) Mount(r *mux.Router) {
	r.HandleFunc("/.well-known/openid-configuration", d.configuration).Methods(http.MethodGet, http.MethodHead, http.MethodOptions)
	r.HandleFunc("/.well-known/oauth-authorization-server", d.configuration).Methods(http.MethodGet, http.MethodHead, http.MethodOptions)
	r.HandleFunc("/.well-known/jwks.json", d.jwks).Methods(http.MethodGet, http.MethodHead, http.MethodOptions)
}

func (d *Discovery) configuration(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(d.metadata)
}

func (d *Discovery) jwks(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	// Short: clients that meet an unknown kid fetch again anyway, and a
	// rotation should reach them within minutes.
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(d.keys.JWKS())
}

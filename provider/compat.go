package provider

import (
	"time"

	"github.com/ajrly/ajrly-auth/provider/apikeys"
	"github.com/ajrly/ajrly-auth/provider/clients"
	"github.com/ajrly/ajrly-auth/storage"
)

// TODO(issue 10): forwarders for the e2e tests while they move to
// helpers_*_test.go; removed once they call clients and apikeys directly.

type ClientSpec = clients.Spec

func NewClient(spec ClientSpec) (*storage.Client, string, error) { return clients.New(spec) }

type APIKeySpec = apikeys.Spec

func NewAPIKey(spec APIKeySpec, now time.Time) (*storage.APIKey, string, error) {
	return apikeys.New(spec, now)
}

const (
	AccessTokenOpaque      = clients.AccessTokenOpaque
	AccessTokenJWT         = clients.AccessTokenJWT
	GrantAuthorizationCode = clients.GrantAuthorizationCode
	GrantRefreshToken      = clients.GrantRefreshToken
	GrantClientCredentials = clients.GrantClientCredentials
	AuthSecretBasic        = clients.AuthSecretBasic
	AuthSecretPost         = clients.AuthSecretPost
	AuthNone               = clients.AuthNone
	AuthPrivateKeyJWT      = clients.AuthPrivateKeyJWT
)

var DefaultClientScopes = clients.DefaultScopes

func CheckAPIKeyFormat(secret string) error { return apikeys.CheckFormat(secret) }

const (
	MaxExtraMembers      = clients.MaxExtraMembers
	MaxExtraBytes        = clients.MaxExtraBytes
	MaxRegistrationBytes = clients.MaxRegistrationBytes

	ErrCodeInvalidClientMetadata = clients.ErrCodeInvalidClientMetadata
	ErrCodeInvalidRedirectURI    = clients.ErrCodeInvalidRedirectURI
)

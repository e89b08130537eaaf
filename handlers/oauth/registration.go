package oauth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/ory/fosite"

	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/provider/audit"
	"github.com/ajrly/ajrly-auth/provider/clients"
	"github.com/ajrly/ajrly-auth/provider/fields"
	"github.com/ajrly/ajrly-auth/storage"
)

// registrationStore is what dynamic registration needs from storage.
type registrationStore interface {
	CreateClient(ctx context.Context, c *storage.Client) error
	UpdateClient(ctx context.Context, c *storage.Client) error
	DeleteClient(ctx context.Context, id string) error
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	AppendAuditEvent(ctx context.Context, e *storage.AuditEvent) error
	FindClient(ctx context.Context, id string) (*storage.Client, error)
	InitialAccessTokenByDigest(ctx context.Context, digest string) (*storage.InitialAccessToken, error)
}

// How many clients one address may register (audit finding 16): in open
// mode a burst of OpenRegistrationBurst, then one every three minutes (20
// an hour); with an initial access token, which an organization handed
// out, TokenRegistrationBurst, then 100 an hour. Only registrations that
// are stored count: a refused one costs bounded work (the metadata caps)
// and nothing kept.
const (
	OpenRegistrationBurst  = 20
	TokenRegistrationBurst = 100
)

var (
	openRegistrationBudget  = web.Budget{Burst: OpenRegistrationBurst, Every: 3 * time.Minute}
	tokenRegistrationBudget = web.Budget{Burst: TokenRegistrationBurst, Every: 36 * time.Second}
)

// Registration is dynamic client registration: RFC 7591 at /register and
// RFC 7592's read, update and delete at /register/{client_id}, guarded by
// the registration access token issued with the client.
type Registration struct {
	kit      *web.Kit
	provider *provider.Provider
	store    registrationStore
	mode     string
	// limit is each address's registration budget.
	limit web.AddressLimiter
}

// Mount registers the endpoints unless registration is off.
func (g *Registration) Mount(r *mux.Router) {
	if g.mode == clients.RegistrationOff {
		return
	}
	r.HandleFunc("/register", g.register).Methods(http.MethodPost)
	r.HandleFunc("/register/{client_id}", g.read).Methods(http.MethodGet)
	r.HandleFunc("/register/{client_id}", g.update).Methods(http.MethodPut)
	r.HandleFunc("/register/{client_id}", g.delete).Methods(http.MethodDelete)
}

// registrationError answers an RFC 7591 §3.2.2 error: the first problem,
// as "field: message".
func registrationError(w http.ResponseWriter, err error) {
	var first fields.Error
	if errors.As(err, &first) {
		code := first.Code
		if code == "" {
			code = clients.ErrCodeInvalidClientMetadata
		}
		web.WriteJSONError(w, http.StatusBadRequest, code, first.Error())
		return
	}
	web.WriteJSONError(w, http.StatusBadRequest, clients.ErrCodeInvalidClientMetadata, err.Error())
}

func (g *Registration) register(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	orgID, iatID := "", ""
	if g.mode == clients.RegistrationToken {
		token := fosite.AccessTokenFromRequest(r)
		if token == "" || r.URL.Query().Get("access_token") != "" {
			bearerChallenge(w, http.StatusUnauthorized, "invalid_token", "Registration needs an initial access token (RFC 7591 §3): send it as a Bearer token.")
			return
		}
		iat, err := g.store.InitialAccessTokenByDigest(ctx, storage.DigestHex(token))
		if errors.Is(err, storage.ErrNotFound) || (err == nil && !iat.Usable(g.provider.Now())) {
			bearerChallenge(w, http.StatusUnauthorized, "invalid_token", "The initial access token is unknown, expired or revoked.")
			return
		} else if err != nil {
			g.kit.Log.ErrorContext(ctx, "read initial access token", "err", err)
			web.WriteJSONError(w, web.StatusOf(err), "server_error", "The registration could not be checked.")
			return
		}
		orgID, iatID = iat.OrgID, iat.ID
	}
	b := openRegistrationBudget
	if g.mode == clients.RegistrationToken {
		b = tokenRegistrationBudget
	}
	now := g.provider.Now()
	reservation, wait := g.limit.Reserve(web.ClientIP(ctx), now, b)
	if reservation == nil {
		g.kit.Log.InfoContext(ctx, "registration refused: rate limit")
		w.Header().Set("Retry-After", web.RetryAfter(wait))
		web.WriteJSONError(w, http.StatusTooManyRequests, "temporarily_unavailable",
			"Too many clients were registered from this address; retry after "+web.RetryAfter(wait)+" seconds.")
		return
	}
	stored := false
	defer func() {
		if !stored {
			reservation.CancelAt(now) // a refused registration costs no budget
		}
	}()
	reg, ok := g.readRegistration(w, r)
	if !ok {
		return
	}
	c, secret, err := clients.Create(reg, clients.Options{}, orgID)
	if err != nil {
		registrationError(w, err)
		return
	}
	regToken := clients.IssueRegistrationToken(c)
	actor := audit.Person(ctx, nil)
	actor.Email = "dynamic registration (/register)"
	detail := "open registration"
	if iatID != "" {
		detail = "with the initial access token " + iatID
	}
	if err := clients.Register(ctx, g.store, actor, c, detail); err != nil {
		g.kit.Log.ErrorContext(ctx, "register client", "err", err)
		web.WriteJSONError(w, web.StatusOf(err), "server_error", "The client could not be registered.")
		return
	}
	stored = true
	g.kit.Log.InfoContext(ctx, "client registered", "client_id", c.ID, "org_id", orgID)
	uri := g.kit.URL("/register/" + c.ID)
	w.Header().Set("Location", uri)
	web.WriteJSON(w, http.StatusCreated, clients.Response(c, secret, regToken, uri))
}

// registrationActor is who acts with an app's registration access token
// (RFC 7592): whoever holds it, known by the request's address only.
func registrationActor(ctx context.Context) audit.Actor {
	a := audit.Person(ctx, nil)
	a.Email = "the app's registration access token"
	return a
}

// readRegistrationBody reads a registration body of at most
// clients.MaxRegistrationBytes, and no more than one byte beyond it.
func readRegistrationBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, clients.MaxRegistrationBytes+1))
	if err == nil && len(body) > clients.MaxRegistrationBytes {
		web.WriteJSONError(w, http.StatusBadRequest, clients.ErrCodeInvalidClientMetadata,
			fmt.Sprintf("The client metadata is larger than %d KiB.", clients.MaxRegistrationBytes>>10))
		return nil, false
	}
	if err != nil {
		web.WriteJSONError(w, http.StatusBadRequest, clients.ErrCodeInvalidClientMetadata,
			fmt.Sprintf("The request body could not be read (it must be a JSON object of client metadata of at most %d KiB).", clients.MaxRegistrationBytes>>10))
		return nil, false
	}
	return body, true
}

// readRegistration reads and parses a registration body.
func (g *Registration) readRegistration(w http.ResponseWriter, r *http.Request) (*clients.Registration, bool) {
	body, ok := readRegistrationBody(w, r)
	if !ok {
		return nil, false
	}
	reg, err := clients.Parse(body)
	if err != nil {
		registrationError(w, err)
		return nil, false
	}
	return reg, true
}

// authorize checks the registration access token of RFC 7592 §1 and
// returns the client it manages. An unknown client gets the same answer
// as a wrong token, so that ids cannot be probed.
func (g *Registration) authorize(w http.ResponseWriter, r *http.Request) (*storage.Client, bool) {
	ctx := r.Context()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	token := fosite.AccessTokenFromRequest(r)
	if token == "" || r.URL.Query().Get("access_token") != "" {
		bearerChallenge(w, http.StatusUnauthorized, "invalid_token", "Send the registration access token as a Bearer token.")
		return nil, false
	}
	c, err := g.store.FindClient(ctx, mux.Vars(r)["client_id"])
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		g.kit.Log.ErrorContext(ctx, "read client", "err", err)
		web.WriteJSONError(w, web.StatusOf(err), "server_error", "The client could not be read.")
		return nil, false
	}
	if c == nil || c.RegistrationTokenDigest == "" ||
		subtle.ConstantTimeCompare([]byte(c.RegistrationTokenDigest), []byte(storage.DigestHex(token))) != 1 {
		bearerChallenge(w, http.StatusUnauthorized, "invalid_token", "The registration access token is not valid for this client.")
		return nil, false
	}
	return c, true
}

func (g *Registration) read(w http.ResponseWriter, r *http.Request) {
	c, ok := g.authorize(w, r)
	if !ok {
		return
	}
	web.WriteJSON(w, http.StatusOK, clients.Response(c, "", "", g.kit.URL("/register/"+c.ID)))
}

// update replaces the client's metadata (RFC 7592 §2.2). The request names
// the client; a secret it sends must be the current one. A client that
// becomes confidential gets a secret, one that becomes public loses it.
func (g *Registration) update(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c, ok := g.authorize(w, r)
	if !ok {
		return
	}
	if g.kit.FirstParty(c) {
		// The operator made it first-party, a trust the holder of its
		// registration access token must not be able to repoint (RFC 7592
		// §2.2: 403 for a client not allowed to update its metadata).
		web.WriteJSONError(w, http.StatusForbidden, clients.ErrCodeInvalidClientMetadata,
			"This client is first-party: only the operator of this server changes it.")
		return
	}
	body, ok := readRegistrationBody(w, r)
	if !ok {
		return
	}
	fields, err := clients.ParseIdentity(body)
	if err != nil {
		registrationError(w, err)
		return
	}
	if fields.ClientID != c.ID {
		web.WriteJSONError(w, http.StatusBadRequest, clients.ErrCodeInvalidClientMetadata, "client_id must be sent and be this client's id (RFC 7592 §2.2).")
		return
	}
	if fields.ClientSecret != "" && !c.SecretMatches(fields.ClientSecret, g.provider.Now()) {
		web.WriteJSONError(w, http.StatusBadRequest, clients.ErrCodeInvalidClientMetadata, "client_secret, when sent, must be the client's current secret.")
		return
	}
	reg, err := clients.Parse(body)
	if err != nil {
		registrationError(w, err)
		return
	}
	updated := *c
	if err := clients.Apply(reg, &updated, clients.Options{}); err != nil {
		registrationError(w, err)
		return
	}
	secret := ""
	switch {
	case !clients.UsesSecret(&updated):
		updated.SecretDigest, updated.RotatedSecrets = nil, nil
	case !clients.UsesSecret(c):
		secret, updated.SecretDigest = clients.NewSecret()
	}
	if err := clients.Change(ctx, g.store, registrationActor(ctx), &updated, "through /register (RFC 7592)"); err != nil {
		g.kit.Log.ErrorContext(ctx, "update client", "err", err)
		web.WriteJSONError(w, web.StatusOf(err), "server_error", "The client could not be updated.")
		return
	}
	web.WriteJSON(w, http.StatusOK, clients.Response(&updated, secret, "", g.kit.URL("/register/"+c.ID)))
}

// delete removes the client and, with it, every code, token and consent
// issued to it (RFC 7592 §2.3).
func (g *Registration) delete(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c, ok := g.authorize(w, r)
	if !ok {
		return
	}
	if err := clients.Delete(ctx, g.store, registrationActor(ctx), c); err != nil && !errors.Is(err, storage.ErrNotFound) {
		g.kit.Log.ErrorContext(ctx, "delete client", "err", err)
		web.WriteJSONError(w, web.StatusOf(err), "server_error", "The client could not be deleted.")
		return
	}
	g.kit.Log.InfoContext(ctx, "client deleted", "client_id", c.ID)
	w.WriteHeader(http.StatusNoContent)
}

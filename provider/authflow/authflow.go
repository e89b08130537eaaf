// Package authflow decides what an authorization request needs before it
// is answered (OpenID Connect Core §3.1.2): whether the person must sign
// in (again), whether they must be asked to consent, and what prompt=none
// gets instead. The decisions are pure functions of what the request asks
// and what is known about the browser's session and the person's earlier
// decisions; the handlers gather those facts and carry the outcome out.
package authflow

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ajrly/ajrly-auth/provider/tenancy"
	"github.com/ajrly/ajrly-auth/storage"
)

// Request is what an authorization request asks, as far as the decisions
// go.
type Request struct {
	// Prompt and MaxAge are the parameters as sent.
	Prompt, MaxAge string
	// Subject is the person the request demands ("" for anyone): the sub
	// its claims parameter asks for with a value (§5.5.1), else the
	// subject of its id_token_hint (§3.1.2.1).
	Subject string
}

func (r Request) prompts() []string { return strings.Fields(r.Prompt) }

// Prompted reports whether the request's prompt holds value.
func (r Request) Prompted(value string) bool { return slices.Contains(r.prompts(), value) }

// Session is the browser's sign-in, if any.
type Session struct {
	UserID   string // "" when nobody is signed in
	AuthTime time.Time
}

// NeedsLogin reports whether the person must sign in before the request
// can be answered: nobody is signed in, prompt=login asks for it, the
// sign-in is older than max_age, or someone else than the person the
// request demands is signed in.
func NeedsLogin(req Request, s Session, now time.Time) bool {
	switch {
	case s.UserID == "", req.Prompted("login"):
		return true
	case req.Subject != "" && req.Subject != s.UserID:
		return true
	}
	if maxAge, err := strconv.Atoi(req.MaxAge); err == nil && maxAge >= 0 && now.Sub(s.AuthTime) > time.Duration(maxAge)*time.Second {
		return true
	}
	return false
}

// Outcome is what to do with an authorization request.
type Outcome int

const (
	// Answer: answer the request now, with a code.
	Answer Outcome = iota
	// ShowLogin: send the browser to sign in, then to consent if needed.
	ShowLogin
	// ShowConsent: send the browser to the consent page.
	ShowConsent
	// LoginRequired and ConsentRequired answer prompt=none, which never
	// shows a page (§3.1.2.6).
	LoginRequired
	ConsentRequired
	// VerifyEmail: the person must verify their email address before
	// an app hears of them (accounts.require_verified_email); the
	// consent page says so instead of asking.
	VerifyEmail
	// VerificationRequired answers prompt=none for such a person.
	VerificationRequired
)

// Decide is what to do with req, given whether the person must sign in
// (NeedsLogin), whether they must verify their email address first
// (mustVerify: the operator requires it and theirs is not; only asked
// about when no sign-in is needed) and whether their consent is already
// given (Consent; likewise). Neither remembered consent nor a first-party
// app lets an unverified person through.
func Decide(req Request, needsLogin, mustVerify, consentGiven bool) Outcome {
	switch none := req.Prompted("none"); {
	case !needsLogin && mustVerify && none:
		return VerificationRequired
	case !needsLogin && mustVerify:
		return VerifyEmail
	case !needsLogin && consentGiven:
		return Answer
	case none && needsLogin:
		return LoginRequired
	case none:
		return ConsentRequired
	case needsLogin:
		return ShowLogin
	}
	return ShowConsent
}

// ConsentFacts are what deciding whether to ask for consent looks at.
type ConsentFacts struct {
	// FirstParty: the operator made the client first-party.
	FirstParty bool
	// ClaimableRedirect: a public client whose redirect URI another app
	// could claim (a custom scheme, a loopback port), which always asks
	// again (RFC 8252 §8.6).
	ClaimableRedirect bool
	// Scopes are what the person would consent to (the requested scopes,
	// and those the claims parameter implies).
	Scopes []string
	// Orgs are the person's organizations now, SessionOrg the one the
	// session works in, and Consents their decisions for this client.
	Orgs       []storage.MemberOrg
	SessionOrg string
	Consents   []storage.Consent
}

// Consent reports whether the person need not be asked, and the
// organization they act in: never when the request says prompt=consent;
// for a first-party app, in their session's organization (if they belong
// to any); otherwise when they ticked "remember this decision" in an
// organization they still belong to, for at least the scopes their role
// there gives now.
func Consent(req Request, f ConsentFacts) (storage.MemberOrg, bool) {
	if req.Prompted("consent") {
		return storage.MemberOrg{}, false
	}
	if f.FirstParty {
		org, err := tenancy.Choose(f.Orgs, "", f.SessionOrg)
		return org, err == nil
	}
	if f.ClaimableRedirect {
		return storage.MemberOrg{}, false
	}
	for _, c := range f.Consents {
		if !c.Remember || c.OrgID == "" {
			continue
		}
		org, err := tenancy.Choose(f.Orgs, c.OrgID, "")
		if err != nil {
			continue // no longer a member there
		}
		if granted, _ := tenancy.Grant(org.Role, f.Scopes); c.Covers(granted) {
			return org, true
		}
	}
	return storage.MemberOrg{}, false
}

// Package signin is the sign-in surface: the authorization endpoint and
// what it hands the browser to — sign-in, sign-up, consent — the links
// mail carries (verifying an address, recovering a password, accepting an
// invitation), and signing out (RP-initiated logout). It decides nothing itself: who must sign in
// and who must consent is provider/authflow's, what a grant holds
// provider/tenancy's.
package signin

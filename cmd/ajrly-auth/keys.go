package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/storage"
)

// keys manages API keys (create, list, revoke) and rotates the server's
// signing keys (rotate).
func (c *cli) keys(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageError("keys needs a subcommand: create, list, revoke or rotate")
	}
	switch args[0] {
	case "rotate":
		return c.keysRotate(ctx, args[1:])
	case "create":
		return c.keysCreate(ctx, args[1:])
	case "list":
		return c.keysList(ctx, args[1:])
	case "revoke":
		fs := c.newFlags("keys revoke")
		store, err := c.adminStore(ctx, fs, "KEY_ID", args[1:], 1)
		if err != nil {
			return err
		}
		defer store.Close()
		id := fs.Arg(0)
		if err := store.RevokeAPIKey(ctx, id); errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("no active API key has the id %q", id)
		} else if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "Revoked API key %s: it stops working now. JWTs exchanged for it are inactive at introspection;\n"+
			"APIs that verify JWTs themselves accept them until they expire (api_key_jwt_ttl, 15 minutes by default).\n", id)
		return nil
	}
	return usageError("unknown keys subcommand %q (use create, list, revoke or rotate)", args[0])
}

func (c *cli) keysCreate(ctx context.Context, args []string) error {
	fs := c.newFlags("keys create")
	email := fs.String("user", "", "the `email` of the person the key acts for (required)")
	orgName := fs.String("org", "", "the `organization` the key belongs to (default: the person's first)")
	name := fs.String("name", "", "a descriptive `name`, such as \"CI deploys\" (required)")
	scope := fs.String("scope", "", "the space-separated `scopes` the key grants (required), e.g. \"projects:read projects:write\"")
	expiresIn := fs.Duration("expires-in", 0, "how long the key works, e.g. 720h (default: until revoked)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	cfg, err := c.adminConfig(fs, `--user EMAIL --name N --scope "..." [--expires-in 720h] [--json]`, args, 0)
	if err != nil {
		return err
	}
	switch {
	case *email == "":
		return usageError("keys create: --user is required")
	case strings.TrimSpace(*name) == "":
		return usageError("keys create: --name is required")
	case strings.TrimSpace(*scope) == "":
		return usageError("keys create: --scope is required")
	case *expiresIn < 0:
		return usageError("keys create: --expires-in must be positive")
	}
	store, err := c.openAdminStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	user, err := store.UserByEmail(ctx, *email)
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("no user has the email %s", storage.NormalizeEmail(*email))
	} else if err != nil {
		return err
	}
	orgs, err := store.UserOrganizations(ctx, user.ID)
	if err != nil {
		return err
	}
	var org *storage.MemberOrg
	for i := range orgs {
		if *orgName == "" || strings.EqualFold(orgs[i].Name, strings.TrimSpace(*orgName)) {
			org = &orgs[i]
			break
		}
	}
	if org == nil {
		if *orgName == "" {
			return fmt.Errorf("%s belongs to no organization; API keys belong to one (users create --org NAME)", user.Email)
		}
		return fmt.Errorf("%s is not a member of an organization named %q", user.Email, *orgName)
	}
	now := time.Now()
	spec := provider.APIKeySpec{OrgID: org.ID, UserID: user.ID, Role: org.Role, Name: *name, Scopes: strings.Fields(*scope)}
	if *expiresIn > 0 {
		exp := now.Add(*expiresIn).UTC()
		spec.ExpiresAt = &exp
	}
	key, secret, err := provider.NewAPIKey(spec, now)
	if err != nil {
		return usageError("keys create:\n%v", err)
	}
	if err := store.CreateAPIKey(ctx, key); err != nil {
		return err
	}
	if *asJSON {
		out := map[string]any{"id": key.ID, "key": secret, "name": key.Name, "scope": key.Scopes, "org_id": key.OrgID, "user_id": key.UserID}
		if key.ExpiresAt != nil {
			out["expires_at"] = key.ExpiresAt.Format(time.RFC3339)
		}
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	fmt.Fprintf(c.stdout, "Created API key %q (%s) in %s for %s.\n  key: %s\nThe key is shown only now: store it somewhere safe.\n",
		key.Name, key.ID, org.Name, user.Email, secret)
	return nil
}

func (c *cli) keysList(ctx context.Context, args []string) error {
	fs := c.newFlags("keys list")
	orgName := fs.String("org", "", "only the keys of the `organization` with this name")
	asJSON := fs.Bool("json", false, "print the keys as JSON")
	store, err := c.adminStore(ctx, fs, "[--org NAME] [--json]", args, 0)
	if err != nil {
		return err
	}
	defer store.Close()
	orgID := ""
	if *orgName != "" {
		org, err := store.OrganizationByName(ctx, *orgName)
		if errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("no organization is named %q", *orgName)
		} else if err != nil {
			return err
		}
		orgID = org.ID
	}
	keys, err := store.ListAPIKeys(ctx, orgID, "")
	if err != nil {
		return err
	}
	now := time.Now()
	if *asJSON {
		type row struct {
			ID        string `json:"id"`
			Name      string `json:"name"`
			Hint      string `json:"hint"`
			Scope     string `json:"scope"`
			Org       string `json:"org"`
			Creator   string `json:"created_by"`
			CreatedAt string `json:"created_at"`
			State     string `json:"state"`
		}
		rows := make([]row, 0, len(keys))
		for _, k := range keys {
			rows = append(rows, row{k.ID, k.Name, k.Hint(), k.Scopes, k.OrgName, k.CreatorEmail, k.CreatedAt.Format(time.RFC3339), k.State(now)})
		}
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tKEY\tSCOPE\tORGANIZATION\tCREATED BY\tSTATE")
	for _, k := range keys {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Hint(), k.Scopes, k.OrgName, k.CreatorEmail, k.State(now))
	}
	return tw.Flush()
}

// keysRotate replaces the server's signing keys (not API keys): the new
// keys are published at once and sign after provider.KeyActivation, which
// leaves every instance and every client time to see them; with --now
// (a key has leaked) they sign at once and the old keys are withdrawn.
func (c *cli) keysRotate(ctx context.Context, args []string) error {
	fs := c.newFlags("keys rotate")
	alg := fs.String("alg", "all", "the signing `algorithm` to rotate: RS256, ES256 or all")
	now := fs.Bool("now", false, "sign with the new key at once and withdraw the old one now, for a leaked key: tokens it signed stop verifying")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	cfg, err := c.adminConfig(fs, "[--alg RS256|ES256|all] [--now] [--json]", args, 0)
	if err != nil {
		return err
	}
	algs := []string{provider.AlgRS256, provider.AlgES256}
	switch *alg {
	case "all":
	case provider.AlgRS256, provider.AlgES256:
		algs = []string{*alg}
	default:
		return usageError("keys rotate: --alg must be RS256, ES256 or all, got %q", *alg)
	}
	store, err := c.openAdminStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	log := newLogger(cfg, c.stderr)
	secret, err := systemSecret(cfg, log)
	if err != nil {
		return err
	}
	sealKey, err := provider.DeriveKey(secret, provider.PurposeSigningKeys)
	if err != nil {
		return err
	}
	set, err := provider.LoadKeys(ctx, store, sealKey, time.Now, log)
	if err != nil {
		return err
	}
	set.SetRotation(provider.KeyRotation{Lifetime: max(cfg.AccessTokenTTL, cfg.IDTokenTTL, cfg.APIKeyJWTTTL)})
	var done []*provider.Rotated
	for _, a := range algs {
		r, err := set.Rotate(ctx, a, *now)
		if errors.Is(err, storage.ErrConflict) {
			return fmt.Errorf("the %s key was rotated by another process just now; run keys rotate again if you meant to rotate twice", a)
		} else if err != nil {
			return err
		}
		done = append(done, r)
	}
	if *asJSON {
		out := make([]map[string]any, 0, len(done))
		for _, r := range done {
			m := map[string]any{"alg": r.Alg, "kid": r.KID, "signs_at": r.SignsAt.Format(time.RFC3339)}
			if r.Replaced != "" {
				m["replaced_kid"] = r.Replaced
				m["replaced_leaves_jwks_at"] = r.LeavesAt.Format(time.RFC3339)
			}
			out = append(out, m)
		}
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	for _, r := range done {
		fmt.Fprintf(c.stdout, "%s: new key %s is published now and signs from %s.\n", r.Alg, r.KID, r.SignsAt.Local().Format(time.DateTime))
		switch {
		case r.Replaced == "":
		case *now:
			fmt.Fprintf(c.stdout, "  %s and any older %s key were withdrawn: tokens they signed no longer verify.\n", r.Replaced, r.Alg)
		default:
			fmt.Fprintf(c.stdout, "  %s signs until then and stays in the JWKS until %s, when what it signed has expired.\n",
				r.Replaced, r.LeavesAt.Local().Format(time.DateTime))
		}
	}
	fmt.Fprintln(c.stdout, "Running servers pick the new keys up within a minute.")
	return nil
}

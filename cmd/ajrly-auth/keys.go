package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ajrly/ajrly-auth/config"
	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/provider/apikeys"
	"github.com/ajrly/ajrly-auth/provider/audit"
	"github.com/ajrly/ajrly-auth/storage"
)

func (c *cli) keysRevokeCmd() *cobra.Command {
	return c.command("revoke KEY_ID", "revoke an API key", oneArg,
		func(ctx context.Context, cfg config.Config, args []string) error {
			return c.keysRevoke(ctx, cfg, args[0])
		})
}

func (c *cli) keysRevoke(ctx context.Context, cfg config.Config, id string) error {
	store, err := c.openAdminStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	if _, err := apikeys.Revoke(ctx, store, audit.OperatorActor(), id); errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("no active API key has the id %q", id)
	} else if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Revoked API key %s: it stops working now. JWTs exchanged for it are inactive at introspection;\n"+
		"APIs that verify JWTs themselves accept them until they expire (api_key_jwt_ttl, 15 minutes by default).\n", id)
	return nil
}

// keysCreateFlags are the flags of keys create.
type keysCreateFlags struct {
	email, org, name, scope string
	expiresIn               time.Duration
	asJSON                  bool
}

func (c *cli) keysCreateCmd() *cobra.Command {
	var f keysCreateFlags
	cmd := c.command(`create --user EMAIL --name N --scope "..." [--org NAME] [--expires-in 720h] [--json]`,
		"create an API key for a person in one of their organizations", noArgs,
		func(ctx context.Context, cfg config.Config, _ []string) error { return c.keysCreate(ctx, cfg, f) })
	fl := cmd.Flags()
	fl.StringVar(&f.email, "user", "", "the `email` of the person the key acts for (required)")
	fl.StringVar(&f.org, "org", "", "the `organization` the key belongs to (default: the person's first)")
	fl.StringVar(&f.name, "name", "", "a descriptive `name`, such as \"CI deploys\" (required)")
	fl.StringVar(&f.scope, "scope", "", "the space-separated `scopes` the key grants (required), e.g. \"projects:read projects:write\"")
	fl.DurationVar(&f.expiresIn, "expires-in", 0, "how long the key works, e.g. 720h (default: until revoked)")
	fl.BoolVar(&f.asJSON, "json", false, "print the result as JSON")
	return cmd
}

func (c *cli) keysCreate(ctx context.Context, cfg config.Config, f keysCreateFlags) error {
	switch {
	case f.email == "":
		return usageError("keys create: --user is required")
	case strings.TrimSpace(f.name) == "":
		return usageError("keys create: --name is required")
	case strings.TrimSpace(f.scope) == "":
		return usageError("keys create: --scope is required")
	case f.expiresIn < 0:
		return usageError("keys create: --expires-in must be positive")
	}
	store, err := c.openAdminStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	user, err := findUser(ctx, store, f.email)
	if err != nil {
		return err
	}
	orgs, err := store.UserOrganizations(ctx, user.ID)
	if err != nil {
		return err
	}
	var org *storage.MemberOrg
	for i := range orgs {
		if f.org == "" || strings.EqualFold(orgs[i].Name, strings.TrimSpace(f.org)) {
			org = &orgs[i]
			break
		}
	}
	if org == nil {
		if f.org == "" {
			return fmt.Errorf("%s belongs to no organization; API keys belong to one (users create --org NAME)", user.Email)
		}
		return fmt.Errorf("%s is not a member of an organization named %q", user.Email, f.org)
	}
	now := time.Now()
	spec := apikeys.Spec{OrgID: org.ID, UserID: user.ID, Role: org.Role, Name: f.name, Scopes: strings.Fields(f.scope)}
	if f.expiresIn > 0 {
		exp := now.Add(f.expiresIn).UTC()
		spec.ExpiresAt = &exp
	}
	key, secret, err := apikeys.New(spec, now)
	if err != nil {
		return usageError("keys create:\n%v", err)
	}
	if err := apikeys.Save(ctx, store, audit.OperatorActor(), key); err != nil {
		return err
	}
	if f.asJSON {
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

// keysListFlags are the flags of keys list.
type keysListFlags struct {
	org    string
	asJSON bool
}

func (c *cli) keysListCmd() *cobra.Command {
	var f keysListFlags
	cmd := c.command("list [--org NAME] [--json]", "list the API keys (never the keys themselves)", noArgs,
		func(ctx context.Context, cfg config.Config, _ []string) error { return c.keysList(ctx, cfg, f) })
	cmd.Flags().StringVar(&f.org, "org", "", "only the keys of the `organization` with this name")
	cmd.Flags().BoolVar(&f.asJSON, "json", false, "print the keys as JSON")
	return cmd
}

func (c *cli) keysList(ctx context.Context, cfg config.Config, f keysListFlags) error {
	store, err := c.openAdminStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	orgID := ""
	if f.org != "" {
		org, err := store.OrganizationByName(ctx, f.org)
		if errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("no organization is named %q", f.org)
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
	if f.asJSON {
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
// keysRotateFlags are the flags of keys rotate.
type keysRotateFlags struct {
	alg         string
	now, asJSON bool
}

func (c *cli) keysRotateCmd() *cobra.Command {
	var f keysRotateFlags
	cmd := c.command("rotate [--alg RS256|ES256|all] [--now] [--json]", "replace the server's signing keys", noArgs,
		func(ctx context.Context, cfg config.Config, _ []string) error { return c.keysRotate(ctx, cfg, f) })
	cmd.Flags().StringVar(&f.alg, "alg", "all", "the signing `algorithm` to rotate: RS256, ES256 or all")
	cmd.Flags().BoolVar(&f.now, "now", false, "sign with the new key at once and withdraw the old one now, for a leaked key: tokens it signed stop verifying")
	cmd.Flags().BoolVar(&f.asJSON, "json", false, "print the result as JSON")
	completeWords(cmd, "alg", provider.AlgRS256, provider.AlgES256, "all")
	return cmd
}

func (c *cli) keysRotate(ctx context.Context, cfg config.Config, f keysRotateFlags) error {
	algs := []string{provider.AlgRS256, provider.AlgES256}
	switch f.alg {
	case "all":
	case provider.AlgRS256, provider.AlgES256:
		algs = []string{f.alg}
	default:
		return usageError("keys rotate: --alg must be RS256, ES256 or all, got %q", f.alg)
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
		var r *provider.Rotated
		err := store.InTx(ctx, func(ctx context.Context) error {
			var err error
			if r, err = set.Rotate(ctx, a, f.now); err != nil {
				return err
			}
			return audit.Record(ctx, store, audit.OperatorActor(), provider.RotationEvent(r, f.now))
		})
		if errors.Is(err, storage.ErrConflict) {
			return fmt.Errorf("the %s key was rotated by another process just now; run keys rotate again if you meant to rotate twice", a)
		} else if err != nil {
			return err
		}
		done = append(done, r)
	}
	if f.asJSON {
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
		case f.now:
			fmt.Fprintf(c.stdout, "  %s and any older %s key were withdrawn: tokens they signed no longer verify.\n", r.Replaced, r.Alg)
		default:
			fmt.Fprintf(c.stdout, "  %s signs until then and stays in the JWKS until %s, when what it signed has expired.\n",
				r.Replaced, r.LeavesAt.Local().Format(time.DateTime))
		}
	}
	fmt.Fprintln(c.stdout, "Running servers pick the new keys up within a minute.")
	return nil
}

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ajrly/ajrly-auth/config"
	"github.com/ajrly/ajrly-auth/provider/accounts"
	"github.com/ajrly/ajrly-auth/provider/audit"
	"github.com/ajrly/ajrly-auth/provider/clients"
	"github.com/ajrly/ajrly-auth/provider/fields"
	"github.com/ajrly/ajrly-auth/storage"
)

// command returns a command that takes the settings flags and runs body
// with the configuration. Its arguments are never files, so the shell
// completes none.
func (c *cli) command(use, short string, args cobra.PositionalArgs, body func(ctx context.Context, cfg config.Config, args []string) error) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short, Args: args, ValidArgsFunction: cobra.NoFileCompletions}
	c.withSettings(cmd, body)
	return cmd
}

// completeWords makes the shell offer words as the values of the flag.
func completeWords(cmd *cobra.Command, flag string, words ...string) {
	_ = cmd.RegisterFlagCompletionFunc(flag, cobra.FixedCompletions(words, cobra.ShellCompDirectiveNoFileComp))
}

// openAdminStore opens the database for an administration command, which
// must find it already migrated to this binary's schema version.
func (c *cli) openAdminStore(ctx context.Context, cfg config.Config) (*storage.Store, error) {
	if path := cfg.SQLitePath(); path != "" {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("there is no database at %s yet: run `ajrly-auth migrate` (or start the server) first", path)
		}
	}
	store, err := openStore(ctx, cfg, newLogger(cfg, c.stderr), 0)
	if err != nil {
		return nil, err
	}
	if err := store.CheckVersion(ctx); err != nil {
		_ = store.Close() // the version error is the one to report
		return nil, err
	}
	return store, nil
}

func (c *cli) migrateCmd() *cobra.Command {
	return c.command("migrate [flags]", "apply database migrations and exit", noArgs,
		func(ctx context.Context, cfg config.Config, _ []string) error { return c.migrate(ctx, cfg) })
}

func (c *cli) migrate(ctx context.Context, cfg config.Config) error {
	store, err := openStore(ctx, cfg, newLogger(cfg, c.stderr), 30*time.Second)
	if err != nil {
		return err
	}
	defer store.Close()
	applied, err := store.Migrate(ctx)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintf(c.stdout, "The database is up to date (schema version %d).\n", storage.SchemaVersion())
		return nil
	}
	fmt.Fprintf(c.stdout, "Applied migrations %v; the database is at schema version %d.\n", applied, storage.SchemaVersion())
	return nil
}

func (c *cli) janitorCmd() *cobra.Command {
	return c.command("janitor [flags]", "remove expired codes, tokens and sessions once and exit", noArgs,
		func(ctx context.Context, cfg config.Config, _ []string) error { return c.janitor(ctx, cfg) })
}

func (c *cli) janitor(ctx context.Context, cfg config.Config) error {
	store, err := c.openAdminStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	n, events, err := sweep(ctx, store, cfg.AuditRetention, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Removed %d expired rows and %d audit events older than %s.\n", n, events, shortDuration(cfg.AuditRetention))
	return nil
}

func (c *cli) usersListCmd() *cobra.Command {
	return c.command("list", "list the users", noArgs,
		func(ctx context.Context, cfg config.Config, _ []string) error { return c.usersList(ctx, cfg) })
}

func (c *cli) usersList(ctx context.Context, cfg config.Config) error {
	store, err := c.openAdminStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	users, err := store.ListUsers(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tEMAIL\tVERIFIED\tNAME\tCREATED")
	for _, u := range users {
		verified := "no"
		if u.EmailVerified {
			verified = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.ID, u.Email, verified, u.Name, u.CreatedAt.Format(time.RFC3339))
	}
	return tw.Flush()
}

func (c *cli) usersDeleteCmd() *cobra.Command {
	return c.command("delete EMAIL", "delete a user: their sessions, consents, tokens, API keys and memberships", oneArg,
		func(ctx context.Context, cfg config.Config, args []string) error {
			return c.usersDelete(ctx, cfg, args[0])
		})
}

// usersDelete removes a person (accounts.Delete holds the rule: never the
// only owner of an organization others depend on, and then nothing is
// deleted).
func (c *cli) usersDelete(ctx context.Context, cfg config.Config, email string) error {
	store, err := c.openAdminStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	gone, err := accounts.New(store, accounts.Config{}).Delete(ctx, email)
	var sole *accounts.SoleOwnerError
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return fmt.Errorf("no user has the email %s", storage.NormalizeEmail(email))
	case errors.As(err, &sole):
		return fmt.Errorf("nothing was deleted: %w", err)
	case err != nil:
		return err
	}
	fmt.Fprintf(c.stdout, "Deleted user %s (%s): their sessions, consents, tokens, API keys and memberships are gone.\n", gone.User.ID, gone.User.Email)
	for _, o := range gone.Orgs {
		fmt.Fprintf(c.stdout, "Their organization %s (%s), which had nobody else in it, is gone too.\n", o.Name, o.ID)
	}
	return nil
}

// usersCreateFlags are the flags of users create.
type usersCreateFlags struct {
	email, password, name, org string
}

func (c *cli) usersCreateCmd() *cobra.Command {
	var f usersCreateFlags
	cmd := c.command("create --email E --password P [--name N] [--org NAME]",
		"create a user, in the organization --org names or a personal one", noArgs,
		func(ctx context.Context, cfg config.Config, _ []string) error { return c.usersCreate(ctx, cfg, f) })
	fl := cmd.Flags()
	fl.StringVar(&f.email, "email", "", "the user's email `address` (required)")
	fl.StringVar(&f.password, "password", "", fmt.Sprintf("the user's `password`, at least %d characters; - reads it from standard input (required)", accounts.MinPasswordLength))
	fl.StringVar(&f.name, "name", "", "the user's display `name`")
	fl.StringVar(&f.org, "org", "", "the `organization` to join as a member, created (with the user as owner) if no organization has that name; without it the user gets a personal organization")
	return cmd
}

func (c *cli) usersCreate(ctx context.Context, cfg config.Config, f usersCreateFlags) error {
	if f.password == "-" {
		line, _ := bufio.NewReader(c.stdin).ReadString('\n')
		f.password = strings.TrimRight(line, "\r\n")
	}
	// The rules are the sign-up page's (provider/accounts), but an
	// operator may leave the name out.
	person := accounts.Person{Email: f.email, Name: f.name, Password: f.password, Organization: f.org, JoinExisting: true}
	if problems := accounts.Check(person, accounts.Options{}); len(problems) > 0 {
		return usageError("users create: %s", flagProblem(problems[0]))
	}
	store, err := c.openAdminStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	// Everyone belongs to an organization: the one --org names (joined as
	// a member, or created with them as its owner), else a personal one.
	made, err := accounts.New(store, accounts.Config{}).Create(ctx, person, accounts.Options{})
	if errors.Is(err, storage.ErrEmailTaken) {
		return fmt.Errorf("a user with the email %s already exists", storage.NormalizeEmail(f.email))
	} else if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Created user %s (%s).\n", made.User.ID, made.User.Email)
	switch {
	case made.Joined:
		fmt.Fprintf(c.stdout, "They joined the organization %s (%s) as a member.\n", made.Org.Name, made.Org.ID)
	case f.org != "":
		fmt.Fprintf(c.stdout, "They joined the new organization %s (%s) as its owner.\n", made.Org.Name, made.Org.ID)
	default:
		fmt.Fprintf(c.stdout, "They own their personal organization %s (%s).\n", made.Org.Name, made.Org.ID)
	}
	return nil
}

func (c *cli) orgsListCmd() *cobra.Command {
	return c.command("list", "list the organizations and their member counts", noArgs,
		func(ctx context.Context, cfg config.Config, _ []string) error { return c.orgsList(ctx, cfg) })
}

func (c *cli) orgsList(ctx context.Context, cfg config.Config) error {
	store, err := c.openAdminStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	orgs, err := store.ListOrganizations(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tMEMBERS\tCREATED")
	for _, o := range orgs {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", o.ID, o.Name, o.Members, o.CreatedAt.Format(time.RFC3339))
	}
	return tw.Flush()
}

func (c *cli) clientsDeleteCmd() *cobra.Command {
	return c.command("delete CLIENT_ID", "delete a client and everything issued to it", oneArg,
		func(ctx context.Context, cfg config.Config, args []string) error {
			return c.clientsDelete(ctx, cfg, args[0])
		})
}

func (c *cli) clientsDelete(ctx context.Context, cfg config.Config, id string) error {
	store, err := c.openAdminStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	cl, err := store.FindClient(ctx, id)
	if err == nil {
		err = clients.Delete(ctx, store, audit.OperatorActor(), cl)
	}
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("no client has the id %q", id)
	} else if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Deleted client %s and every code and token issued to it.\n", id)
	return nil
}

// clientsCreateFlags are the flags of clients create.
type clientsCreateFlags struct {
	name, scope, format                string
	redirects, grants, logouts         []string
	public, firstParty, resourceServer bool
	asJSON                             bool
}

func (c *cli) clientsCreateCmd() *cobra.Command {
	var f clientsCreateFlags
	cmd := c.command("create --name N --redirect-uri U [flags]", "register an app (OAuth client); prints its id and secret", noArgs,
		func(ctx context.Context, cfg config.Config, _ []string) error { return c.clientsCreate(ctx, cfg, f) })
	fl := cmd.Flags()
	fl.StringVar(&f.name, "name", "", "the app's `name`, shown on the consent page (required)")
	fl.StringArrayVar(&f.redirects, "redirect-uri", nil, "a redirect `URI` (repeat for several)")
	fl.StringArrayVar(&f.grants, "grant-type", nil, "a grant `type`: authorization_code, refresh_token or client_credentials (repeat; default authorization_code and refresh_token)")
	fl.StringVar(&f.scope, "scope", strings.Join(clients.DefaultScopes, " "), "the space-separated `scopes` the client may request")
	fl.BoolVar(&f.public, "public", false, "a public client (native or browser app): no secret, PKCE required")
	fl.BoolVar(&f.firstParty, "first-party", false, "one of the operator's own apps: nobody is asked to consent to it")
	fl.BoolVar(&f.resourceServer, "resource-server", false, "an API that checks tokens: it may introspect every token, API keys included (others learn only about their own)")
	fl.StringVar(&f.format, "access-token-format", clients.AccessTokenOpaque, "`format` of access tokens: opaque (at_live_, checked by introspection) or jwt (RFC 9068, verified against the JWKS)")
	fl.StringArrayVar(&f.logouts, "post-logout-redirect-uri", nil, "where RP-initiated logout may send people back, a `URI` (repeat for several)")
	fl.BoolVar(&f.asJSON, "json", false, "print the result as JSON")
	completeWords(cmd, "grant-type", "authorization_code", "refresh_token", "client_credentials")
	completeWords(cmd, "access-token-format", clients.AccessTokenOpaque, clients.AccessTokenJWT)
	return cmd
}

func (c *cli) clientsCreate(ctx context.Context, cfg config.Config, f clientsCreateFlags) error {
	client, secret, err := clients.New(clients.Spec{
		Name:         f.name,
		RedirectURIs: f.redirects,
		Scopes:       strings.Fields(f.scope),
		GrantTypes:   f.grants,
		Public:       f.public,
		FirstParty:   f.firstParty,

		ResourceServer:         f.resourceServer,
		PostLogoutRedirectURIs: f.logouts,
		AccessTokenFormat:      f.format,
	})
	if err != nil {
		return usageError("clients create:\n%v", err)
	}
	store, err := c.openAdminStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := clients.Register(ctx, store, audit.OperatorActor(), client, "with the command line"); err != nil {
		return err
	}
	if f.asJSON {
		out := map[string]any{
			"client_id":                  client.ID,
			"client_name":                client.Name,
			"redirect_uris":              client.RedirectURIs,
			"grant_types":                client.GrantTypes,
			"scope":                      strings.Join(client.Scopes, " "),
			"token_endpoint_auth_method": client.TokenEndpointAuthMethod,
			"first_party":                client.FirstParty,
			"resource_server":            client.ResourceServer,
			"access_token_format":        client.AccessTokenFormat,
			"post_logout_redirect_uris":  client.PostLogoutRedirectURIs,
		}
		if secret != "" {
			out["client_secret"] = secret
		}
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	fmt.Fprintf(c.stdout, "Created client %q.\n  client_id:     %s\n", client.Name, client.ID)
	if secret != "" {
		fmt.Fprintf(c.stdout, "  client_secret: %s\nThe secret is shown only now: store it somewhere safe.\n", secret)
	} else {
		fmt.Fprintln(c.stdout, "  public client: no secret; use PKCE (S256).")
	}
	return nil
}

func (c *cli) clientsListCmd() *cobra.Command {
	var asJSON bool
	cmd := c.command("list [--json]", "list the clients", noArgs,
		func(ctx context.Context, cfg config.Config, _ []string) error { return c.clientsList(ctx, cfg, asJSON) })
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the clients as JSON")
	return cmd
}

func (c *cli) clientsList(ctx context.Context, cfg config.Config, asJSON bool) error {
	store, err := c.openAdminStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	clients, err := store.ListClients(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		type row struct {
			ClientID       string   `json:"client_id"`
			Name           string   `json:"client_name"`
			Public         bool     `json:"public"`
			FirstParty     bool     `json:"first_party"`
			ResourceServer bool     `json:"resource_server"`
			GrantTypes     []string `json:"grant_types"`
			RedirectURIs   []string `json:"redirect_uris"`
			Scope          string   `json:"scope"`
			CreatedAt      string   `json:"created_at"`
		}
		rows := make([]row, 0, len(clients))
		for _, cl := range clients {
			rows = append(rows, row{cl.ID, cl.Name, cl.Public, cl.FirstParty, cl.ResourceServer, cl.GrantTypes, cl.RedirectURIs,
				strings.Join(cl.Scopes, " "), cl.CreatedAt.Format(time.RFC3339)})
		}
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLIENT ID\tNAME\tTYPE\tTRUST\tGRANT TYPES\tREDIRECT URIS")
	for _, cl := range clients {
		kind := "confidential"
		if cl.Public {
			kind = "public"
		}
		var trust []string
		if cl.FirstParty {
			trust = append(trust, "first-party")
		}
		if cl.ResourceServer {
			trust = append(trust, "resource-server")
		}
		if len(trust) == 0 {
			trust = []string{"-"}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", cl.ID, cl.Name, kind, strings.Join(trust, ","), strings.Join(cl.GrantTypes, ","), strings.Join(cl.RedirectURIs, " "))
	}
	return tw.Flush()
}

// clientsUpdate changes what only the operator decides about a client:
// whether it is first-party (nobody is asked to consent to it) and whether
// it is a resource server (it may introspect every token). Only the flags
// given change anything.
// clientsUpdateFlags are the flags of clients update; nil is a flag not
// given, which changes nothing.
type clientsUpdateFlags struct {
	firstParty, resourceServer *bool
}

func (c *cli) clientsUpdateCmd() *cobra.Command {
	var firstParty, resourceServer bool
	var cmd *cobra.Command
	cmd = c.command("update CLIENT_ID [--first-party=true|false] [--resource-server=true|false]",
		"set whether a client is first-party or a resource server", oneArg,
		func(ctx context.Context, cfg config.Config, args []string) error {
			var f clientsUpdateFlags
			if cmd.Flags().Changed("first-party") {
				f.firstParty = &firstParty
			}
			if cmd.Flags().Changed("resource-server") {
				f.resourceServer = &resourceServer
			}
			return c.clientsUpdate(ctx, cfg, args[0], f)
		})
	cmd.Flags().BoolVar(&firstParty, "first-party", false, "true makes the client one of the operator's own apps, which nobody is asked to consent to; false undoes it")
	cmd.Flags().BoolVar(&resourceServer, "resource-server", false, "true lets the client introspect every token, API keys included; false limits it to its own")
	return cmd
}

func (c *cli) clientsUpdate(ctx context.Context, cfg config.Config, id string, f clientsUpdateFlags) error {
	if f.firstParty == nil && f.resourceServer == nil {
		return usageError("clients update: give --first-party=true|false or --resource-server=true|false")
	}
	store, err := c.openAdminStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	cl, err := store.FindClient(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("no client has the id %q", id)
	} else if err != nil {
		return err
	}
	if f.firstParty != nil {
		cl.FirstParty = *f.firstParty
	}
	if f.resourceServer != nil {
		cl.ResourceServer = *f.resourceServer
	}
	detail := fmt.Sprintf("first-party %v, resource server %v", cl.FirstParty, cl.ResourceServer)
	if err := clients.Change(ctx, store, audit.OperatorActor(), cl, detail); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Updated client %s (%s): first-party %v, resource server %v.\n", cl.ID, cl.Name, cl.FirstParty, cl.ResourceServer)
	if cl.FirstParty {
		fmt.Fprintln(c.stdout, "People signing in to it are not asked to consent; running servers see the change within the client cache time.")
	}
	return nil
}

// clientsTokenCreate makes an initial access token for /register when
// registration is by token (RFC 7591 §3).
// clientsTokenCreateFlags are the flags of clients token create.
type clientsTokenCreateFlags struct {
	expiresIn time.Duration
	asJSON    bool
}

func (c *cli) clientsTokenCreateCmd() *cobra.Command {
	var f clientsTokenCreateFlags
	cmd := c.command("create [--expires-in 24h] [--json]", "make an initial access token for /register", noArgs,
		func(ctx context.Context, cfg config.Config, _ []string) error {
			return c.clientsTokenCreate(ctx, cfg, f)
		})
	cmd.Flags().DurationVar(&f.expiresIn, "expires-in", 0, "how long the token works, e.g. 24h (default: until revoked)")
	cmd.Flags().BoolVar(&f.asJSON, "json", false, "print the token as JSON")
	return cmd
}

func (c *cli) clientsTokenCreate(ctx context.Context, cfg config.Config, f clientsTokenCreateFlags) error {
	store, err := c.openAdminStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	if f.expiresIn < 0 {
		return usageError("clients token create: --expires-in must be positive")
	}
	secret := storage.NewSecret()
	t := &storage.InitialAccessToken{ID: storage.NewID("iat"), Digest: storage.DigestHex(secret), CreatedBy: "cli", CreatedAt: time.Now().UTC()}
	if f.expiresIn > 0 {
		exp := time.Now().Add(f.expiresIn).UTC()
		t.ExpiresAt = &exp
	}
	if err := store.CreateInitialAccessToken(ctx, t); err != nil {
		return err
	}
	if f.asJSON {
		out := map[string]any{"id": t.ID, "initial_access_token": secret}
		if t.ExpiresAt != nil {
			out["expires_at"] = t.ExpiresAt.Format(time.RFC3339)
		}
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	fmt.Fprintf(c.stdout, "Created initial access token %s.\n  token: %s\nRegister clients with it: POST /register with Authorization: Bearer TOKEN. It is shown only now.\n", t.ID, secret)
	return nil
}

// flagProblem says a field's problem in the command line's terms: the
// flag that set the field, then what is wrong with it.
func flagProblem(p fields.Error) string {
	flag := map[string]string{"organization": "org"}[p.Field]
	if flag == "" {
		flag = p.Field
	}
	return "--" + flag + " " + p.Message
}

// shortDuration prints d without zero minutes and seconds: 9600h, not
// 9600h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	s = strings.TrimSuffix(s, "0s")
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	if s == "" {
		return "0s"
	}
	return s
}

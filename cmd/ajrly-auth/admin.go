package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/ajrly/ajrly-auth/config"
	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/provider/tenancy"
	"github.com/ajrly/ajrly-auth/storage"
)

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// adminConfig parses an administration command's flags and checks that it
// got exactly nargs arguments; it opens nothing, so a wrong command line
// never touches the database.
func (c *cli) adminConfig(fs *flag.FlagSet, synopsis string, args []string, nargs int) (config.Config, error) {
	cfg, err := c.settings(fs, synopsis, args)
	if err != nil {
		return cfg, err
	}
	name := strings.TrimPrefix(fs.Name(), "ajrly-auth ")
	switch {
	case fs.NArg() == nargs:
		return cfg, nil
	case nargs == 0:
		return cfg, usageError("%s takes no arguments, got %q", name, fs.Args())
	default:
		return cfg, usageError("usage: ajrly-auth %s %s", name, synopsis)
	}
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
		store.Close()
		return nil, err
	}
	return store, nil
}

// adminStore is adminConfig followed by openAdminStore, for commands with
// nothing else to check in between.
func (c *cli) adminStore(ctx context.Context, fs *flag.FlagSet, synopsis string, args []string, nargs int) (*storage.Store, error) {
	cfg, err := c.adminConfig(fs, synopsis, args, nargs)
	if err != nil {
		return nil, err
	}
	return c.openAdminStore(ctx, cfg)
}

func (c *cli) migrate(ctx context.Context, args []string) error {
	cfg, err := c.adminConfig(c.newFlags("migrate"), "[flags]", args, 0)
	if err != nil {
		return err
	}
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

func (c *cli) janitor(ctx context.Context, args []string) error {
	store, err := c.adminStore(ctx, c.newFlags("janitor"), "[flags]", args, 0)
	if err != nil {
		return err
	}
	defer store.Close()
	n, err := store.DeleteExpired(ctx, 1000)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Removed %d expired rows.\n", n)
	return nil
}

func (c *cli) users(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageError("users needs a subcommand: create or list")
	}
	switch args[0] {
	case "create":
		return c.usersCreate(ctx, args[1:])
	case "list":
		store, err := c.adminStore(ctx, c.newFlags("users list"), "[flags]", args[1:], 0)
		if err != nil {
			return err
		}
		defer store.Close()
		users, err := store.ListUsers(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tCREATED")
		for _, u := range users {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.ID, u.Email, u.Name, u.CreatedAt.Format(time.RFC3339))
		}
		return tw.Flush()
	}
	return usageError("unknown users subcommand %q (use create or list)", args[0])
}

// MinPasswordLength is the shortest password accepted, in characters.
const MinPasswordLength = 10

func (c *cli) usersCreate(ctx context.Context, args []string) error {
	fs := c.newFlags("users create")
	email := fs.String("email", "", "the user's email `address` (required)")
	password := fs.String("password", "", "the user's `password`, at least 10 characters; - reads it from standard input (required)")
	name := fs.String("name", "", "the user's display `name`")
	org := fs.String("org", "", "the `organization` to join as a member, created (with the user as owner) if no organization has that name; without it the user gets a personal organization")
	cfg, err := c.adminConfig(fs, "--email E --password P [--name N] [--org NAME]", args, 0)
	if err != nil {
		return err
	}
	if *password == "-" {
		line, _ := bufio.NewReader(c.stdin).ReadString('\n')
		*password = strings.TrimRight(line, "\r\n")
	}
	switch {
	case strings.TrimSpace(*email) == "":
		return usageError("users create: --email is required")
	case *password == "":
		return usageError("users create: --password is required")
	case utf8.RuneCountInString(*password) < MinPasswordLength:
		return usageError("users create: --password must be at least %d characters", MinPasswordLength)
	case strings.EqualFold(*password, strings.TrimSpace(*email)):
		return usageError("users create: --password must not be the email address")
	}
	if err := storage.ValidateEmail(*email); err != nil {
		return usageError("users create: --email %q is not an email address (%v)", strings.TrimSpace(*email), err)
	}
	if *org != "" {
		if err := storage.ValidateOrgName(*org); err != nil {
			return usageError("users create: --org: %v", err)
		}
	}
	store, err := c.openAdminStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	// Everyone belongs to an organization: the one --org names (joined as
	// a member, or created with them as its owner), else a personal one.
	made, err := tenancy.New(store).CreatePerson(ctx, tenancy.Person{
		Email: *email, Name: *name, Password: *password, Organization: *org, JoinExisting: true,
	})
	if errors.Is(err, storage.ErrEmailTaken) {
		return fmt.Errorf("a user with the email %s already exists", storage.NormalizeEmail(*email))
	} else if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Created user %s (%s).\n", made.User.ID, made.User.Email)
	switch {
	case made.Joined:
		fmt.Fprintf(c.stdout, "They joined the organization %s (%s) as a member.\n", made.Org.Name, made.Org.ID)
	case *org != "":
		fmt.Fprintf(c.stdout, "They joined the new organization %s (%s) as its owner.\n", made.Org.Name, made.Org.ID)
	default:
		fmt.Fprintf(c.stdout, "They own their personal organization %s (%s).\n", made.Org.Name, made.Org.ID)
	}
	return nil
}

func (c *cli) orgs(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "list" {
		return usageError("orgs needs a subcommand: list")
	}
	store, err := c.adminStore(ctx, c.newFlags("orgs list"), "[flags]", args[1:], 0)
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

func (c *cli) clients(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageError("clients needs a subcommand: create, list, update, delete or token create")
	}
	switch args[0] {
	case "create":
		return c.clientsCreate(ctx, args[1:])
	case "list":
		return c.clientsList(ctx, args[1:])
	case "update":
		return c.clientsUpdate(ctx, args[1:])
	case "token":
		if len(args) < 2 || args[1] != "create" {
			return usageError("clients token needs a subcommand: create")
		}
		return c.clientsTokenCreate(ctx, args[2:])
	case "delete":
		fs := c.newFlags("clients delete")
		store, err := c.adminStore(ctx, fs, "CLIENT_ID", args[1:], 1)
		if err != nil {
			return err
		}
		defer store.Close()
		id := fs.Arg(0)
		if err := store.DeleteClient(ctx, id); errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("no client has the id %q", id)
		} else if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "Deleted client %s and every code and token issued to it.\n", id)
		return nil
	}
	return usageError("unknown clients subcommand %q (use create, list, update, delete or token create)", args[0])
}

func (c *cli) clientsCreate(ctx context.Context, args []string) error {
	fs := c.newFlags("clients create")
	name := fs.String("name", "", "the app's `name`, shown on the consent page (required)")
	var redirects, grants listFlag
	fs.Var(&redirects, "redirect-uri", "a redirect `URI` (repeat for several)")
	fs.Var(&grants, "grant-type", "a grant `type`: authorization_code, refresh_token or client_credentials (repeat; default authorization_code and refresh_token)")
	scope := fs.String("scope", strings.Join(provider.DefaultClientScopes, " "), "the space-separated `scopes` the client may request")
	public := fs.Bool("public", false, "a public client (native or browser app): no secret, PKCE required")
	firstParty := fs.Bool("first-party", false, "one of the operator's own apps: nobody is asked to consent to it")
	resourceServer := fs.Bool("resource-server", false, "an API that checks tokens: it may introspect every token, API keys included (others learn only about their own)")
	format := fs.String("access-token-format", provider.AccessTokenOpaque, "`format` of access tokens: opaque (at_live_, checked by introspection) or jwt (RFC 9068, verified against the JWKS)")
	var logouts listFlag
	fs.Var(&logouts, "post-logout-redirect-uri", "where RP-initiated logout may send people back, a `URI` (repeat for several)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	cfg, err := c.adminConfig(fs, "--name N --redirect-uri U [flags]", args, 0)
	if err != nil {
		return err
	}
	client, secret, err := provider.NewClient(provider.ClientSpec{
		Name:         *name,
		RedirectURIs: redirects,
		Scopes:       strings.Fields(*scope),
		GrantTypes:   grants,
		Public:       *public,
		FirstParty:   *firstParty,

		ResourceServer:         *resourceServer,
		PostLogoutRedirectURIs: logouts,
		AccessTokenFormat:      *format,
	})
	if err != nil {
		return usageError("clients create:\n%v", err)
	}
	store, err := c.openAdminStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.CreateClient(ctx, client); err != nil {
		return err
	}
	if *asJSON {
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

func (c *cli) clientsList(ctx context.Context, args []string) error {
	fs := c.newFlags("clients list")
	asJSON := fs.Bool("json", false, "print the clients as JSON")
	store, err := c.adminStore(ctx, fs, "[--json]", args, 0)
	if err != nil {
		return err
	}
	defer store.Close()
	clients, err := store.ListClients(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
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
func (c *cli) clientsUpdate(ctx context.Context, args []string) error {
	fs := c.newFlags("clients update")
	firstParty := fs.Bool("first-party", false, "true makes the client one of the operator's own apps, which nobody is asked to consent to; false undoes it")
	resourceServer := fs.Bool("resource-server", false, "true lets the client introspect every token, API keys included; false limits it to its own")
	cfg, err := c.adminConfig(fs, "CLIENT_ID [--first-party=true|false] [--resource-server=true|false]", args, 1)
	if err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if !given["first-party"] && !given["resource-server"] {
		return usageError("clients update: give --first-party=true|false or --resource-server=true|false")
	}
	store, err := c.openAdminStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	id := fs.Arg(0)
	cl, err := store.FindClient(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("no client has the id %q", id)
	} else if err != nil {
		return err
	}
	if given["first-party"] {
		cl.FirstParty = *firstParty
	}
	if given["resource-server"] {
		cl.ResourceServer = *resourceServer
	}
	if err := store.UpdateClient(ctx, cl); err != nil {
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
func (c *cli) clientsTokenCreate(ctx context.Context, args []string) error {
	fs := c.newFlags("clients token create")
	expiresIn := fs.Duration("expires-in", 0, "how long the token works, e.g. 24h (default: until revoked)")
	asJSON := fs.Bool("json", false, "print the token as JSON")
	store, err := c.adminStore(ctx, fs, "[--expires-in 24h] [--json]", args, 0)
	if err != nil {
		return err
	}
	defer store.Close()
	if *expiresIn < 0 {
		return usageError("clients token create: --expires-in must be positive")
	}
	secret := storage.NewSecret()
	t := &storage.InitialAccessToken{ID: storage.NewID("iat"), Digest: storage.DigestHex(secret), CreatedBy: "cli", CreatedAt: time.Now().UTC()}
	if *expiresIn > 0 {
		exp := time.Now().Add(*expiresIn).UTC()
		t.ExpiresAt = &exp
	}
	if err := store.CreateInitialAccessToken(ctx, t); err != nil {
		return err
	}
	if *asJSON {
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

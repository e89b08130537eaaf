// Command ajrly-auth is the Ajrly Auth server and its administration tool:
// serve (the default), migrate, janitor, and the users and clients
// subcommands. Every subcommand takes the same settings (flags, AJRLY_*
// variables or a YAML file given with --config).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// env is how the commands read the environment; tests pass a map.
type env func(string) (string, bool)

// cli carries a command's input and output.
type cli struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv env
}

const usage = `ajrly-auth: an OpenID Connect provider

Usage:
  ajrly-auth [serve] [flags]            run the server (migrates the database first unless --auto-migrate=false)
  ajrly-auth migrate [flags]            apply database migrations and exit
  ajrly-auth janitor [flags]            remove expired codes, tokens and sessions once and exit
  ajrly-auth users create --email E --password P [--name N] [--org NAME]
  ajrly-auth users list
  ajrly-auth orgs list
  ajrly-auth clients create --name N --redirect-uri U [--redirect-uri U2 ...]
                            [--scope "openid offline_access read write ..."]
                            [--grant-type authorization_code --grant-type refresh_token ...]
                            [--public] [--first-party] [--resource-server] [--post-logout-redirect-uri U] [--json]
  ajrly-auth clients update ID [--first-party=true|false] [--resource-server=true|false]
  ajrly-auth clients list [--json]
  ajrly-auth clients delete ID
  ajrly-auth clients token create [--expires-in 24h] [--json]   an initial access token for /register
  ajrly-auth keys create --user EMAIL --name N --scope "..." [--org NAME] [--expires-in 720h] [--json]
  ajrly-auth keys list [--org NAME] [--json]
  ajrly-auth keys revoke KEY_ID
  ajrly-auth keys rotate [--alg RS256|ES256|all] [--now] [--json]   replace the server's signing keys

Every command takes the settings flags (--dsn, --config, ...); run
"ajrly-auth serve -h" to list them. Each has an AJRLY_* environment variable.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c := &cli{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.LookupEnv}
	os.Exit(c.run(ctx, os.Args[1:]))
}

// run dispatches a command line and returns the exit code: 0 on success,
// 1 when the command failed, 2 when the command line was wrong.
func (c *cli) run(ctx context.Context, args []string) int {
	cmd, rest := "serve", args
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, rest = args[0], args[1:]
	}
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		cmd = "help"
	}
	var err error
	switch cmd {
	case "serve":
		err = c.serve(ctx, rest)
	case "migrate":
		err = c.migrate(ctx, rest)
	case "janitor":
		err = c.janitor(ctx, rest)
	case "users":
		err = c.users(ctx, rest)
	case "clients":
		err = c.clients(ctx, rest)
	case "orgs":
		err = c.orgs(ctx, rest)
	case "keys":
		err = c.keys(ctx, rest)
	case "help":
		fmt.Fprint(c.stdout, usage)
		return 0
	default:
		fmt.Fprintf(c.stderr, "ajrly-auth: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	var ue usageErr
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errBadFlag):
		return 2 // the flag package has said what was wrong, with the usage
	case errors.As(err, &ue):
		fmt.Fprintf(c.stderr, "ajrly-auth: %s\n\n%s", ue.msg, usage)
		return 2
	}
	fmt.Fprintf(c.stderr, "ajrly-auth: %v\n", err)
	return 1
}

// usageErr is a wrong command line; run prints it with the usage.
type usageErr struct{ msg string }

func (e usageErr) Error() string { return e.msg }

// usageError reports a wrong command line.
func usageError(format string, args ...any) error {
	return usageErr{msg: fmt.Sprintf(format, args...)}
}

// errBadFlag is a flag the flag package refused (and already explained).
var errBadFlag = errors.New("bad flag")

// newFlags returns a FlagSet for a subcommand whose errors are returned
// rather than exiting.
func (c *cli) newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("ajrly-auth "+name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	return fs
}

// parse parses a subcommand's flags, which may come before or after its
// arguments, turning a bad flag into a usage error. The arguments end up
// in fs.Args().
func parse(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return errBadFlag
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if rest[0] == "--" {
			positional = append(positional, rest[1:]...)
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	// Parse once more with only the arguments so fs.Args() returns them.
	return fs.Parse(append([]string{"--"}, positional...))
}

// Command ajrly-auth is the Ajrly Auth server and its administration tool:
// serve (the default), migrate, janitor, the users, orgs, clients and keys
// subcommands, version and completion. Every command that uses the
// database or the server takes the same settings (flags, AJRLY_* variables
// or a YAML file given with --config).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
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

func init() {
	// The overview and the help list commands in the order they are added.
	cobra.EnableCommandSorting = false
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c := &cli{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.LookupEnv}
	os.Exit(c.run(ctx, os.Args[1:]))
}

// run runs a command line and returns the exit code: 0 on success, 1 when
// the command failed, 2 when the command line was wrong.
func (c *cli) run(ctx context.Context, args []string) int {
	args = defaultToServe(args)
	root := c.newRoot(args)
	root.SetArgs(args)
	_, err := root.ExecuteContextC(ctx)
	var fe flagError
	var ue usageErr
	switch {
	case err == nil:
		return 0
	case errors.As(err, &fe):
		fmt.Fprintf(c.stderr, "ajrly-auth: %s: %v\n\n", strings.TrimPrefix(fe.cmd.CommandPath(), "ajrly-auth "), fe.err)
		c.printUsage(fe.cmd)
		return 2
	case errors.As(err, &ue):
		fmt.Fprintf(c.stderr, "ajrly-auth: %s\n\n", ue.msg)
		c.printOverview(c.stderr, root)
		return 2
	}
	fmt.Fprintf(c.stderr, "ajrly-auth: %v\n", err)
	return 1
}

// defaultToServe makes serve the command of a line that names none: an
// empty one or one that starts with a flag, except -h and --help, which ask
// for the overview. The shell completion request (__complete) follows the
// same rule, so that completing "ajrly-auth --" offers serve's flags.
func defaultToServe(args []string) []string {
	rest, prefix := args, []string(nil)
	if len(args) > 0 && (args[0] == cobra.ShellCompRequestCmd || args[0] == cobra.ShellCompNoDescRequestCmd) {
		rest, prefix = args[1:], args[:1]
	}
	if len(rest) == 0 && prefix != nil {
		return args
	}
	if len(rest) > 0 && (!strings.HasPrefix(rest[0], "-") || rest[0] == "-h" || rest[0] == "--help") {
		return args
	}
	return append(append(append([]string{}, prefix...), "serve"), rest...)
}

// usageErr is a wrong command line; run prints it with the overview.
type usageErr struct{ msg string }

func (e usageErr) Error() string { return e.msg }

// usageError reports a wrong command line.
func usageError(format string, args ...any) error {
	return usageErr{msg: fmt.Sprintf(format, args...)}
}

// flagError is a flag that did not parse; run prints it with the usage of
// the command it was given to.
type flagError struct {
	cmd *cobra.Command
	err error
}

func (e flagError) Error() string { return e.err.Error() }
func (e flagError) Unwrap() error { return e.err }

// newRoot builds the command tree for the command line args.
func (c *cli) newRoot(args []string) *cobra.Command {
	root := &cobra.Command{
		Use:   "ajrly-auth",
		Short: "an OpenID Connect provider",
		// A first word that is no command: cobra's own check would say
		// so without the exit code of a wrong command line.
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				return usageError("unknown command %q (did you mean %s?)", args[0], strings.Join(s, " or "))
			}
			return usageError("unknown command %q", args[0])
		},
		SilenceErrors:     true,
		SilenceUsage:      true,
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	root.SetIn(c.stdin)
	root.SetOut(c.stdout) // before the completion command, which keeps it
	root.SetErr(c.stderr)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return flagError{cmd: cmd, err: plainFlagError(err, args)}
	})
	root.SetHelpFunc(func(cmd *cobra.Command, _ []string) {
		if cmd == root {
			c.printOverview(c.stdout, root)
			return
		}
		c.printHelp(cmd)
	})
	root.SetUsageFunc(func(cmd *cobra.Command) error {
		c.printUsage(cmd)
		return nil
	})

	root.AddCommand(
		c.serveCmd(),
		c.migrateCmd(),
		c.janitorCmd(),
		group("users", "manage the people who sign in",
			c.usersCreateCmd(),
			c.usersListCmd(),
			c.usersSetPasswordCmd(),
			c.usersResetLinkCmd(),
			c.usersDeleteCmd(),
		),
		group("orgs", "manage the organizations and their members",
			c.orgsCreateCmd(),
			c.orgsListCmd(),
			c.orgsMembersCmd(),
			c.orgsAddMemberCmd(),
			c.orgsSetRoleCmd(),
			c.orgsRemoveMemberCmd(),
		),
		group("clients", "manage the apps that use the provider (OAuth clients)",
			c.clientsCreateCmd(),
			c.clientsUpdateCmd(),
			c.clientsListCmd(),
			c.clientsDeleteCmd(),
			group("token", "make initial access tokens for dynamic client registration",
				c.clientsTokenCreateCmd(),
			),
		),
		group("keys", "manage API keys and rotate the server's signing keys",
			c.keysCreateCmd(),
			c.keysListCmd(),
			c.keysRevokeCmd(),
			c.keysRotateCmd(),
		),
		group("audit", "read the audit log of who did what",
			c.auditListCmd(),
		),
		c.versionCmd(),
	)

	root.InitDefaultCompletionCmd()
	for _, cmd := range root.Commands() {
		if cmd.Name() == "completion" {
			cmd.Use = "completion SHELL"
			cmd.Short = "print a shell completion script"
			cmd.Annotations = map[string]string{annOneLine: "true"}
			cmd.Args = cobra.ArbitraryArgs
			cmd.RunE = groupRun
		}
	}
	root.SetHelpCommand(c.helpCmd(root))
	root.InitDefaultHelpCmd()

	// Every argument check, ours or cobra's, is a usage error.
	walk(root, func(cmd *cobra.Command) {
		if check := cmd.Args; check != nil {
			cmd.Args = func(cmd *cobra.Command, args []string) error {
				err := check(cmd, args)
				var ue usageErr
				if err != nil && !errors.As(err, &ue) {
					return usageErr{msg: err.Error()}
				}
				return err
			}
		}
	})
	return root
}

// walk calls f on cmd and every command under it.
func walk(cmd *cobra.Command, f func(*cobra.Command)) {
	f(cmd)
	for _, sub := range cmd.Commands() {
		walk(sub, f)
	}
}

// group returns a command that only holds subcommands.
func group(name, short string, subs ...*cobra.Command) *cobra.Command {
	g := &cobra.Command{
		Use:               name + " COMMAND",
		Short:             short,
		Args:              cobra.ArbitraryArgs,
		RunE:              groupRun,
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	g.AddCommand(subs...)
	return g
}

// groupRun is what a group does when no subcommand of it is named: it
// says which there are.
func groupRun(cmd *cobra.Command, args []string) error {
	var names []string
	for _, sub := range cmd.Commands() {
		if sub.IsAvailableCommand() {
			names = append(names, sub.Name())
		}
	}
	list := orList(names)
	path := commandName(cmd)
	if len(args) == 0 {
		return usageError("%s needs a subcommand: %s", path, list)
	}
	return usageError("unknown %s subcommand %q (use %s)", path, args[0], list)
}

// orList joins names as "a, b or c".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// commandName is the command's path without the program name: "users create".
func commandName(cmd *cobra.Command) string {
	return strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
}

// helpCmd is "help [COMMAND]", which shows the overview or a command's help.
func (c *cli) helpCmd(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:   "help [COMMAND]",
		Short: "show a command's help, as COMMAND --help does",
		Args:  cobra.ArbitraryArgs,
		RunE: func(_ *cobra.Command, args []string) error {
			target, rest, err := root.Find(args)
			if err != nil || len(rest) > 0 {
				return usageError("no help for %q: there is no such command", strings.Join(args, " "))
			}
			target.InitDefaultHelpFlag()
			return target.Help()
		},
		ValidArgsFunction: func(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			target, _, err := root.Find(args)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var out []cobra.Completion
			for _, sub := range target.Commands() {
				if sub.IsAvailableCommand() && strings.HasPrefix(sub.Name(), toComplete) {
					out = append(out, cobra.CompletionWithDesc(sub.Name(), sub.Short))
				}
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		},
	}
}

// noArgs is the argument check of a command that takes none.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError("%s takes no arguments, got %q", commandName(cmd), args)
	}
	return nil
}

// oneArg is the argument check of a command that takes one, such as an id.
func oneArg(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usageError("usage: %s", strings.TrimSuffix(useLine(cmd), " [flags]"))
	}
	return nil
}

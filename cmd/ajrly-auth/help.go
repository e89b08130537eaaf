package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// annOneLine marks a group the overview shows on one line, its
// subcommands joined by "|" (completion bash|zsh|fish|powershell).
const annOneLine = "ajrly-auth/one-line"

// annDefault marks the command that runs when the line names none.
const annDefault = "ajrly-auth/default"

// settingsHeading introduces the settings flags in a command's help.
const settingsHeading = "Settings (each also an AJRLY_* variable or a key of the --config file):"

// overviewColumn is the widest command line the overview keeps on the
// line of its description.
const overviewColumn = 44

// printOverview writes the whole tool's usage: every command, from the
// tree, so that none can be left out.
func (c *cli) printOverview(w io.Writer, root *cobra.Command) {
	type line struct{ use, short string }
	var lines []line
	var add func(cmd *cobra.Command)
	add = func(cmd *cobra.Command) {
		for _, sub := range cmd.Commands() {
			switch {
			case sub.Hidden || sub.Deprecated != "":
			case sub.Annotations[annOneLine] != "":
				var names []string
				for _, s := range sub.Commands() {
					names = append(names, s.Name())
				}
				lines = append(lines, line{sub.CommandPath() + " " + strings.Join(names, "|"), sub.Short})
			case sub.HasSubCommands():
				add(sub)
			case sub.Annotations[annDefault] != "":
				use := "[" + sub.Name() + "]" + strings.TrimPrefix(sub.Use, sub.Name())
				lines = append(lines, line{cmd.CommandPath() + " " + use, sub.Short})
			default:
				lines = append(lines, line{cmd.CommandPath() + " " + sub.Use, sub.Short})
			}
		}
	}
	add(root)
	width := 0
	for _, l := range lines {
		if n := len(l.use); n <= overviewColumn && n > width {
			width = n
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n\nUsage:\n", root.Name(), root.Short)
	for _, l := range lines {
		if len(l.use) > width {
			fmt.Fprintf(&b, "  %s\n  %-*s   %s\n", l.use, width, "", l.short)
			continue
		}
		fmt.Fprintf(&b, "  %-*s   %s\n", width, l.use, l.short)
	}
	fmt.Fprintf(&b, `
Run "%[1]s COMMAND --help" (or -h) for what a command does and its flags.
The commands that use the database or the server take the settings flags
(--dsn, --config, ...) too: each is also an AJRLY_* environment variable or
a key of the --config file, and "%[1]s serve --help" lists them.
`, root.Name())
	_, _ = io.WriteString(w, b.String())
}

// printHelp writes a command's help: what it does, its subcommands, its
// own flags and, apart, the settings flags. It goes to stderr, like the
// usage shown with a wrong command line.
func (c *cli) printHelp(cmd *cobra.Command) {
	cmd.InitDefaultHelpFlag()
	own, settings := splitFlags(cmd)
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: %s\n", useLine(cmd))
	about := cmd.Long
	if about == "" {
		about = cmd.Short
	}
	if about != "" {
		fmt.Fprintf(&b, "\n%s\n", strings.TrimRight(about, "\n"))
	}
	writeSubcommands(&b, cmd)
	fmt.Fprintf(&b, "\nFlags:\n%s", flagUsages(own))
	if len(settings) > 0 {
		fmt.Fprintf(&b, "\n%s\n%s", settingsHeading, flagUsages(settings))
	}
	if cmd.HasAvailableSubCommands() {
		fmt.Fprintf(&b, "\nRun \"%s COMMAND --help\" for a command's flags.\n", cmd.CommandPath())
	}
	_, _ = io.WriteString(c.stderr, b.String())
}

// printUsage writes the short usage shown with a flag that did not parse:
// the usage line, the subcommands and the command's own flags.
func (c *cli) printUsage(cmd *cobra.Command) {
	cmd.InitDefaultHelpFlag()
	own, settings := splitFlags(cmd)
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: %s\n", useLine(cmd))
	writeSubcommands(&b, cmd)
	fmt.Fprintf(&b, "\nFlags:\n%s", flagUsages(own))
	if len(settings) > 0 {
		fmt.Fprintf(&b, "\nIt also takes the settings flags (--dsn, --config, ...): run \"%s --help\" to list them.\n", cmd.CommandPath())
	}
	_, _ = io.WriteString(c.stderr, b.String())
}

// writeSubcommands lists cmd's subcommands, if it has any.
func writeSubcommands(b *strings.Builder, cmd *cobra.Command) {
	if !cmd.HasAvailableSubCommands() {
		return
	}
	width := 0
	for _, sub := range cmd.Commands() {
		if sub.IsAvailableCommand() {
			width = max(width, len(sub.Name()))
		}
	}
	b.WriteString("\nCommands:\n")
	for _, sub := range cmd.Commands() {
		if sub.IsAvailableCommand() {
			fmt.Fprintf(b, "  %-*s   %s\n", width, sub.Name(), sub.Short)
		}
	}
}

// useLine is the command's path and synopsis, with [flags] when it takes
// flags its synopsis does not show.
func useLine(cmd *cobra.Command) string {
	line := cmd.Use
	if cmd.HasParent() {
		line = cmd.Parent().CommandPath() + " " + cmd.Use
	}
	own, settings := splitFlags(cmd)
	if len(settings) > 0 || len(own) > 1 { // one is --help
		if !strings.Contains(line, "[flags]") {
			line += " [flags]"
		}
	}
	return line
}

// splitFlags returns the command's own flags and its settings flags.
func splitFlags(cmd *cobra.Command) (own, settings []*pflag.Flag) {
	cmd.LocalFlags().VisitAll(func(f *pflag.Flag) {
		switch {
		case f.Hidden:
		case isSetting(f):
			settings = append(settings, f)
		default:
			own = append(own, f)
		}
	})
	return own, settings
}

// flagUsages formats flags the way pflag does, aligned among themselves.
func flagUsages(flags []*pflag.Flag) string {
	fs := pflag.NewFlagSet("", pflag.ContinueOnError)
	for _, f := range flags {
		fs.AddFlag(f)
	}
	return fs.FlagUsages()
}

// plainFlagError rewrites pflag's error for a long flag given with one
// dash (-dsn, the form of the flag package), which pflag reads as a group
// of one-letter flags and reports by the letters left when it failed
// ("-help" as -h and "elp"). The flag is named as on the command line up
// to any "=": -secret=VALUE must not echo the value.
func plainFlagError(err error, args []string) error {
	var ne *pflag.NotExistError
	if !errors.As(err, &ne) || len(ne.GetSpecifiedShortnames()) < 2 {
		return err
	}
	for _, a := range args {
		if a == "--" {
			break
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' && strings.HasSuffix(a, ne.GetSpecifiedShortnames()) {
			name, _, _ := strings.Cut(a[1:], "=")
			return fmt.Errorf("unknown flag: -%s (long flags take two dashes: --%s)", name, name)
		}
	}
	letters, _, _ := strings.Cut(ne.GetSpecifiedShortnames(), "=")
	return fmt.Errorf("unknown flag: -%s", letters)
}

package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ajrly/ajrly-auth/config"
)

// commandTable is every command of the tree with its own flags (besides
// --help) and whether it takes the settings flags. TestCommandTable holds
// it to the real tree, so a command added there must be added here, and
// the help and secret tests then cover it.
var commandTable = []struct {
	path     string
	flags    []string
	settings bool
}{
	{"serve", nil, true},
	{"migrate", nil, true},
	{"janitor", nil, true},
	{"users", nil, false},
	{"users create", []string{"email", "password", "name", "org"}, true},
	{"users list", nil, true},
	{"users set-password", nil, true},
	{"users reset-link", nil, true},
	{"users delete", nil, true},
	{"orgs", nil, false},
	{"orgs create", []string{"owner"}, true},
	{"orgs list", nil, true},
	{"orgs members", nil, true},
	{"orgs add-member", []string{"role"}, true},
	{"orgs set-role", nil, true},
	{"orgs remove-member", nil, true},
	{"clients", nil, false},
	{"clients create", []string{"name", "redirect-uri", "grant-type", "scope", "public", "first-party", "resource-server", "access-token-format", "post-logout-redirect-uri", "json"}, true},
	{"clients update", []string{"first-party", "resource-server"}, true},
	{"clients list", []string{"json"}, true},
	{"clients delete", nil, true},
	{"clients token", nil, false},
	{"clients token create", []string{"expires-in", "json"}, true},
	{"keys", nil, false},
	{"keys create", []string{"user", "org", "name", "scope", "expires-in", "json"}, true},
	{"keys list", []string{"org", "json"}, true},
	{"keys revoke", nil, true},
	{"keys rotate", []string{"alg", "now", "json"}, true},
	{"audit", nil, false},
	{"audit list", []string{"org", "since", "kind", "json"}, true},
	{"version", nil, false},
	{"completion", nil, false},
	{"completion bash", []string{"no-descriptions"}, false},
	{"completion zsh", []string{"no-descriptions"}, false},
	{"completion fish", []string{"no-descriptions"}, false},
	{"completion powershell", []string{"no-descriptions"}, false},
	{"help", nil, false},
}

// testRoot returns the command tree of a cli that reads nothing.
func testRoot() *cobra.Command {
	c := &cli{stdin: strings.NewReader(""), stdout: new(bytes.Buffer), stderr: new(bytes.Buffer), getenv: func(string) (string, bool) { return "", false }}
	return c.newRoot(nil)
}

// findCommand returns the command at path in root's tree.
func findCommand(t *testing.T, root *cobra.Command, path string) *cobra.Command {
	t.Helper()
	cmd, rest, err := root.Find(strings.Fields(path))
	if err != nil || len(rest) > 0 || commandName(cmd) != path {
		t.Fatalf("no command %q in the tree (found %q, rest %q, %v)", path, commandName(cmd), rest, err)
	}
	return cmd
}

// settingFlags returns the names of the settings flags, from the config
// package: --config and a flag for every setting that has one.
func settingFlags() []string {
	fs := flag.NewFlagSet("settings", flag.ContinueOnError)
	config.NewLoader(fs)
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	return names
}

func TestCommandTable(t *testing.T) {
	t.Parallel()
	type entry struct {
		Flags    []string
		Settings []string
	}
	want := map[string]entry{}
	for _, row := range commandTable {
		e := entry{Flags: append([]string{"help"}, row.flags...)}
		if row.settings {
			e.Settings = settingFlags()
		}
		slices.Sort(e.Flags)
		slices.Sort(e.Settings)
		want[row.path] = e
	}
	got := map[string]entry{}
	walk(testRoot(), func(cmd *cobra.Command) {
		if !cmd.HasParent() || cmd.Hidden {
			return
		}
		cmd.InitDefaultHelpFlag()
		var e entry
		own, settings := splitFlags(cmd)
		for _, f := range own {
			e.Flags = append(e.Flags, f.Name)
		}
		for _, f := range settings {
			e.Settings = append(e.Settings, f.Name)
		}
		slices.Sort(e.Flags)
		slices.Sort(e.Settings)
		got[commandName(cmd)] = e
	})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the commands and their flags (-commandTable +tree):\n%s", diff)
	}
}

func TestOverviewListsEveryCommand(t *testing.T) {
	t.Parallel()
	r := runCLI(t, nil, "", "help")
	wantCode(t, r, 0)
	root := testRoot()
	for _, row := range commandTable {
		cmd := findCommand(t, root, row.path)
		switch {
		case row.path == "serve":
			wantContains(t, "the overview", r.stdout, "\n  ajrly-auth [serve] [flags]   ")
		case strings.HasPrefix(row.path, "completion"):
			wantContains(t, "the overview", r.stdout, "\n  ajrly-auth completion bash|zsh|fish|powershell\n")
		case !cmd.HasSubCommands():
			wantContains(t, "the overview", r.stdout, "\n  ajrly-auth "+row.path+" ", cmd.Short)
		}
	}
}

// helpSections splits a command's help into its sections, by heading.
func helpSections(help string) map[string]string {
	sections := map[string]string{}
	for _, part := range strings.Split(help, "\n\n") {
		heading, body, _ := strings.Cut(part, "\n")
		sections[heading] = body
	}
	return sections
}

func TestEveryCommandHasHelp(t *testing.T) {
	t.Parallel()
	root := testRoot()
	settings := settingFlags()
	for _, row := range commandTable {
		cmd := findCommand(t, root, row.path)
		var subs []string
		for _, sub := range cmd.Commands() {
			if sub.IsAvailableCommand() {
				subs = append(subs, sub.Name())
			}
		}
		for _, asked := range [][]string{{"--help"}, {"-h"}, {"help"}} {
			args := append(strings.Fields(row.path), asked[0])
			if asked[0] == "help" {
				args = append([]string{"help"}, strings.Fields(row.path)...)
			}
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				t.Parallel()
				r := runCLI(t, nil, "", args...)
				wantCode(t, r, 0)
				if r.stdout != "" {
					t.Errorf("a command's help goes to stderr, but stdout has:\n%s", r.stdout)
				}
				if !strings.HasPrefix(r.stderr, "Usage: ajrly-auth "+row.path) {
					t.Fatalf("the help does not start with the usage line:\n%s", r.stderr)
				}
				about := cmd.Long
				if about == "" {
					about = cmd.Short
				}
				wantContains(t, "the help", r.stderr, about)
				sections := helpSections(r.stderr)
				own, ok := sections["Flags:"]
				if !ok {
					t.Fatalf("the help has no Flags section:\n%s", r.stderr)
				}
				for _, name := range append([]string{"help"}, row.flags...) {
					wantContains(t, "the Flags section", own, "--"+name+" ")
				}
				set, ok := sections[settingsHeading]
				if ok != row.settings {
					t.Errorf("settings section shown: %v, want %v:\n%s", ok, row.settings, r.stderr)
				}
				for _, name := range settings {
					if strings.Contains(own, "--"+name+" ") {
						t.Errorf("the Flags section lists the setting --%s:\n%s", name, own)
					}
					if row.settings {
						wantContains(t, "the Settings section", set, "--"+name+" ")
					}
				}
				if row.settings {
					wantContains(t, "the Settings section", set, "(env AJRLY_DSN)")
				}
				list, ok := sections["Commands:"]
				if ok != (len(subs) > 0) {
					t.Errorf("commands section shown: %v, want %v:\n%s", ok, len(subs) > 0, r.stderr)
				}
				for _, sub := range subs {
					wantContains(t, "the Commands section", "\n"+list, "\n  "+sub+" ")
				}
			})
		}
	}
}

func TestGroupsNameTheirSubcommands(t *testing.T) {
	t.Parallel()
	tests := []struct {
		group string
		subs  string
	}{
		{"users", "create, list, set-password, reset-link or delete"},
		{"orgs", "create, list, members, add-member, set-role or remove-member"},
		{"clients", "create, update, list, delete or token"},
		{"clients token", "create"},
		{"keys", "create, list, revoke or rotate"},
		{"completion", "bash, zsh, fish or powershell"},
	}
	for _, tc := range tests {
		t.Run(tc.group, func(t *testing.T) {
			t.Parallel()
			args := strings.Fields(tc.group)
			r := runCLI(t, nil, "", args...)
			wantCode(t, r, 2)
			wantContains(t, "stderr", r.stderr, tc.group+" needs a subcommand: "+tc.subs+"\n", usageHead)
			r = runCLI(t, nil, "", append(args, "frobnicate")...)
			wantCode(t, r, 2)
			wantContains(t, "stderr", r.stderr, "unknown "+tc.group+` subcommand "frobnicate" (use `+tc.subs+")", usageHead)
		})
	}
}

// The server secret is never a flag: ps would show it to everyone on the
// machine. Every command refuses one, in every spelling, without echoing
// the value.
func TestNoCommandTakesTheSecretAsAFlag(t *testing.T) {
	t.Parallel()
	const value = "a-server-secret-typed-on-the-command-line"
	root := testRoot()
	walk(root, func(cmd *cobra.Command) {
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			if f.Name == "secret" || f.Shorthand == "s" {
				t.Errorf("%s has the flag --%s (-%s)", cmd.CommandPath(), f.Name, f.Shorthand)
			}
		})
	})
	for _, row := range commandTable {
		for _, spelling := range [][]string{{"--secret=" + value}, {"--secret", value}, {"-secret=" + value}, {"-secret", value}} {
			args := append(strings.Fields(row.path), spelling...)
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				t.Parallel()
				db := newSQLite(t)
				r := db.run(t, args...)
				wantCode(t, r, 2)
				wantContains(t, "stderr", r.stderr, "unknown flag: -", "secret", "Usage: ajrly-auth "+row.path)
				if strings.Contains(r.all(), value) {
					t.Errorf("the output shows the value:\n%s", r)
				}
				if path := strings.TrimPrefix(db.dsn, "sqlite://"); fileExists(t, path) {
					t.Errorf("a refused flag created the database %s", path)
				}
			})
		}
	}
	t.Run("no command line at all", func(t *testing.T) {
		t.Parallel()
		r := runCLI(t, nil, "", "--secret="+value)
		wantCode(t, r, 2)
		if strings.Contains(r.all(), value) {
			t.Errorf("the output shows the value:\n%s", r)
		}
	})
}

// The flag package took long flags with one dash (-dsn); pflag reads that
// as a group of one-letter flags. The error says what to type instead.
func TestOneDashLongFlagsAreRefusedWithAHint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-dsn", "sqlite://x.db"}, "unknown flag: -dsn (long flags take two dashes: --dsn)"},
		{[]string{"migrate", "-dsn=sqlite://x.db"}, "unknown flag: -dsn (long flags take two dashes: --dsn)"},
		{[]string{"users", "create", "-email", "a@example.com"}, "unknown flag: -email (long flags take two dashes: --email)"},
		{[]string{"serve", "-help"}, "unknown flag: -help (long flags take two dashes: --help)"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			db := newSQLite(t)
			r := db.run(t, tc.args...)
			wantCode(t, r, 2)
			wantContains(t, "stderr", r.stderr, tc.want, "Usage: ajrly-auth ")
		})
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	r := runCLI(t, nil, "", "version")
	wantCode(t, r, 0)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) < 4 || !strings.HasPrefix(lines[0], "ajrly-auth ") || len(lines[0]) == len("ajrly-auth ") {
		t.Fatalf("version does not start with the version:\n%s", r.stdout)
	}
	wantContains(t, "stdout", r.stdout, "\n  commit:    ",
		"\n  go:        "+runtime.Version()+"\n",
		"\n  platform:  "+runtime.GOOS+"/"+runtime.GOARCH+"\n")
	if r.stderr != "" {
		t.Errorf("stderr is not empty:\n%s", r.stderr)
	}
	r = runCLI(t, nil, "", "version", "now")
	wantCode(t, r, 2)
	wantContains(t, "stderr", r.stderr, `version takes no arguments, got ["now"]`)
}

// testBuildVersion is the version the tests' binary is built with.
const testBuildVersion = "v9.8.7-test"

// TestVersionFromLdflags checks that version shows what -X set, in the
// binary built the way a release is.
func TestVersionFromLdflags(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(binary(t), "version")
	cmd.Env = []string{}
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ajrly-auth version: %v\n%s", err, stderr.String())
	}
	out := stdout.String()
	if !strings.HasPrefix(out, "ajrly-auth "+testBuildVersion+"\n  commit:    ") {
		t.Errorf("version does not show the version set with -ldflags:\n%s", out)
	}
	wantContains(t, "stdout", out, "\n  go:        go1.", "\n  platform:  "+runtime.GOOS+"/"+runtime.GOARCH+"\n")
}

func TestVersionFromBuildInfo(t *testing.T) {
	t.Parallel()
	platform := runtime.GOOS + "/" + runtime.GOARCH
	vcs := func(kv ...string) []debug.BuildSetting {
		var out []debug.BuildSetting
		for i := 0; i+1 < len(kv); i += 2 {
			out = append(out, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return out
	}
	tests := []struct {
		name      string
		ldVersion string
		info      *debug.BuildInfo
		ok        bool
		want      string
	}{
		{
			name: "no build information at all",
			want: "ajrly-auth devel\n  commit:    unknown (built without version control information)\n  go:        " + runtime.Version() + "\n  platform:  " + platform + "\n",
		},
		{
			name: "a build in a checkout without VCS stamping (-buildvcs=false)",
			info: &debug.BuildInfo{GoVersion: "go1.26.11", Main: debug.Module{Path: "github.com/ajrly/ajrly-auth", Version: "(devel)"}},
			ok:   true,
			want: "ajrly-auth devel\n  commit:    unknown (built without version control information)\n  go:        go1.26.11\n  platform:  " + platform + "\n",
		},
		{
			name: "go install of a tagged release",
			info: &debug.BuildInfo{GoVersion: "go1.26.11", Main: debug.Module{Path: "github.com/ajrly/ajrly-auth", Version: "v1.4.0"}},
			ok:   true,
			want: "ajrly-auth v1.4.0\n  commit:    unknown (built without version control information)\n  go:        go1.26.11\n  platform:  " + platform + "\n",
		},
		{
			name: "a build in a clean checkout",
			info: &debug.BuildInfo{GoVersion: "go1.26.11", Main: debug.Module{Version: "(devel)"},
				Settings: vcs("vcs", "git", "vcs.revision", "c3bda6f0e1", "vcs.time", "2026-03-01T10:00:00Z", "vcs.modified", "false")},
			ok:   true,
			want: "ajrly-auth devel\n  commit:    c3bda6f0e1\n  committed: 2026-03-01T10:00:00Z\n  go:        go1.26.11\n  platform:  " + platform + "\n",
		},
		{
			name: "a build with uncommitted changes",
			info: &debug.BuildInfo{GoVersion: "go1.26.11", Main: debug.Module{Version: "v0.0.0-20260301100000-c3bda6f0e1ab+dirty"},
				Settings: vcs("vcs.revision", "c3bda6f0e1", "vcs.time", "2026-03-01T10:00:00Z", "vcs.modified", "true")},
			ok:   true,
			want: "ajrly-auth v0.0.0-20260301100000-c3bda6f0e1ab+dirty\n  commit:    c3bda6f0e1, with changes not committed\n  committed: 2026-03-01T10:00:00Z\n  go:        go1.26.11\n  platform:  " + platform + "\n",
		},
		{
			name:      "the version set with -ldflags wins",
			ldVersion: "v1.5.0-rc.1",
			info: &debug.BuildInfo{GoVersion: "go1.26.11", Main: debug.Module{Version: "v1.4.0"},
				Settings: vcs("vcs.revision", "c3bda6f0e1", "vcs.modified", "false")},
			ok:   true,
			want: "ajrly-auth v1.5.0-rc.1\n  commit:    c3bda6f0e1\n  go:        go1.26.11\n  platform:  " + platform + "\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			readBuildInfo(tc.ldVersion, tc.info, tc.ok).print(&b)
			if diff := cmp.Diff(tc.want, b.String()); diff != "" {
				t.Errorf("version output (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCompletionScripts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		shell string
		want  string
	}{
		{"bash", "complete -o default -F __start_ajrly-auth ajrly-auth"},
		{"zsh", "#compdef ajrly-auth"},
		{"fish", "complete -c ajrly-auth "},
		{"powershell", "Register-ArgumentCompleter"},
	}
	for _, tc := range tests {
		t.Run(tc.shell, func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, nil, "", "completion", tc.shell)
			wantCode(t, r, 0)
			wantContains(t, "stdout", r.stdout, tc.want, "__complete")
			if r.stderr != "" {
				t.Errorf("stderr is not empty:\n%s", r.stderr)
			}
			if tc.shell != "bash" {
				return
			}
			bash, err := exec.LookPath("bash")
			if err != nil {
				t.Fatalf("find bash: %v", err)
			}
			check := exec.Command(bash, "-n")
			check.Stdin = strings.NewReader(r.stdout)
			if out, err := check.CombinedOutput(); err != nil {
				t.Errorf("bash -n: %v\n%s", err, out)
			}
		})
	}
}

// complete asks for the completions of a command line the way the shell
// scripts do and returns the words offered and the directive.
func complete(t *testing.T, args ...string) (words []string, directive string) {
	t.Helper()
	r := runCLI(t, nil, "", append([]string{cobra.ShellCompRequestCmd}, args...)...)
	wantCode(t, r, 0)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, ":") {
		t.Fatalf("__complete %q: no directive:\n%s", args, r.stdout)
	}
	for _, l := range lines[:len(lines)-1] {
		word, _, _ := strings.Cut(l, "\t")
		words = append(words, word)
	}
	return words, last
}

func TestCompletionAnswers(t *testing.T) {
	t.Parallel()
	var settings []string
	for _, name := range settingFlags() {
		settings = append(settings, "--"+name)
	}
	noFiles := ":4"
	tests := []struct {
		name      string
		line      []string
		want      []string // among the words offered
		exactly   bool     // and nothing else
		directive string
	}{
		{"the commands", []string{""}, []string{"serve", "migrate", "janitor", "users", "orgs", "clients", "keys", "audit", "version", "completion", "help"}, true, noFiles},
		{"commands by prefix", []string{"c"}, []string{"clients", "completion"}, true, noFiles},
		{"the subcommands of a group", []string{"clients", ""}, []string{"create", "update", "list", "delete", "token"}, true, noFiles},
		{"the subcommand of a nested group", []string{"clients", "token", ""}, []string{"create"}, true, noFiles},
		{"the shells", []string{"completion", ""}, []string{"bash", "zsh", "fish", "powershell"}, true, noFiles},
		{"a command's own flags", []string{"users", "create", "--"}, []string{"--email", "--password", "--name", "--org", "--help"}, false, noFiles},
		{"a command's settings flags", []string{"users", "create", "--"}, settings, false, noFiles},
		{"serve's flags with no command", []string{"--"}, settings, false, noFiles},
		{"settings flags by prefix", []string{"keys", "list", "--d"}, []string{"--db-max-conns", "--demo", "--dsn"}, true, noFiles},
		{"an argument that is no file", []string{"clients", "delete", ""}, nil, true, noFiles},
		{"the algorithms to rotate", []string{"keys", "rotate", "--alg", ""}, []string{"RS256", "ES256", "all"}, true, noFiles},
		{"the grant types", []string{"clients", "create", "--grant-type", ""}, []string{"authorization_code", "refresh_token", "client_credentials"}, true, noFiles},
		{"the log levels", []string{"migrate", "--log-level", ""}, []string{"debug", "info", "warn", "error"}, true, noFiles},
		{"the config file is YAML", []string{"serve", "--config", ""}, []string{"yaml", "yml"}, true, ":8"},
		{"the commands help knows", []string{"help", "keys", ""}, []string{"create", "list", "revoke", "rotate"}, true, noFiles},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			words, directive := complete(t, tc.line...)
			if tc.exactly {
				if diff := cmp.Diff(tc.want, words); diff != "" {
					t.Errorf("__complete %q (-want +got):\n%s", tc.line, diff)
				}
			} else {
				for _, w := range tc.want {
					if !slices.Contains(words, w) {
						t.Errorf("__complete %q does not offer %s: %q", tc.line, w, words)
					}
				}
			}
			if directive != tc.directive {
				t.Errorf("__complete %q: directive %s, want %s", tc.line, directive, tc.directive)
			}
		})
	}
}

// startingConfig runs serve until it has logged its configuration and
// returns that configuration. The DSN (unless the row sets one) names a
// PostgreSQL server and there is no secret, so serve stops right after,
// before it opens anything. The log is JSON by the environment, not by a
// flag, so that the rows test only their own flags.
func startingConfig(t *testing.T, env map[string]string, args ...string) map[string]any {
	t.Helper()
	all := map[string]string{"AJRLY_DSN": "postgres://ajrly@127.0.0.1:1/ajrly", "AJRLY_LOG_FORMAT": "json"}
	for k, v := range env {
		all[k] = v
	}
	r := runCLI(t, all, "", args...)
	wantCode(t, r, 1)
	wantContains(t, "stderr", r.stderr, "secret: required with a postgres dsn")
	for line := range strings.SplitSeq(r.stderr, "\n") {
		var entry struct {
			Msg    string         `json:"msg"`
			Config map[string]any `json:"config"`
		}
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "starting ajrly-auth" {
			return entry.Config
		}
	}
	t.Fatalf("serve did not log its configuration:\n%s", r.stderr)
	return nil
}

// Each setting's flag is a pflag whose Set goes through the loader's
// FlagSet; these rows fail if a flag's value does not reach the
// configuration or if the loader does not learn that it was given.
func TestSettingsFlagsReachTheConfiguration(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "ajrly.yaml")
	if err := os.WriteFile(file, []byte("issuer: http://127.0.0.1:5555\nlog_level: debug\naddr: 127.0.0.1:5555\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want map[string]any
	}{
		{
			name: "the defaults without flags",
			args: []string{"serve"},
			want: map[string]any{"addr": "127.0.0.1:8080", "demo": false, "auto_migrate": true, "access_token_ttl": "1h"},
		},
		{
			name: "a string flag",
			args: []string{"serve", "--addr", "127.0.0.1:1234"},
			want: map[string]any{"addr": "127.0.0.1:1234"},
		},
		{
			name: "a flag with no command is serve's",
			args: []string{"--addr=127.0.0.1:1235", "--issuer", "http://127.0.0.1:1235"},
			want: map[string]any{"addr": "127.0.0.1:1235", "issuer": "http://127.0.0.1:1235"},
		},
		{
			name: "a flag beats the environment",
			env:  map[string]string{"AJRLY_ADDR": "127.0.0.1:9999"},
			args: []string{"serve", "--addr", "127.0.0.1:1236"},
			want: map[string]any{"addr": "127.0.0.1:1236"},
		},
		{
			name: "a flag repeating the default still beats the environment",
			env:  map[string]string{"AJRLY_ADDR": "127.0.0.1:9999", "AJRLY_LOG_LEVEL": "debug"},
			args: []string{"serve", "--addr", "127.0.0.1:8080", "--log-level=info"},
			want: map[string]any{"addr": "127.0.0.1:8080", "log_level": "info"},
		},
		{
			name: "the environment where no flag is given",
			env:  map[string]string{"AJRLY_ADDR": "127.0.0.1:9999"},
			args: []string{"serve"},
			want: map[string]any{"addr": "127.0.0.1:9999"},
		},
		{
			name: "a bool flag without a value is true",
			args: []string{"serve", "--demo"},
			want: map[string]any{"demo": true},
		},
		{
			name: "a bool flag set to its default beats the environment",
			env:  map[string]string{"AJRLY_DEMO": "true", "AJRLY_AUTO_MIGRATE": "false"},
			args: []string{"serve", "--demo=false", "--auto-migrate=true"},
			want: map[string]any{"demo": false, "auto_migrate": true},
		},
		{
			name: "a bool flag set to false",
			args: []string{"serve", "--auto-migrate=false"},
			want: map[string]any{"auto_migrate": false},
		},
		{
			name: "durations, as Go durations and as seconds",
			args: []string{"serve", "--access-token-ttl", "90s", "--shutdown-timeout=30", "--refresh-token-ttl", "48h"},
			want: map[string]any{"access_token_ttl": "1m30s", "shutdown_timeout": "30s", "refresh_token_ttl": "48h"},
		},
		{
			name: "a number",
			args: []string{"serve", "--db-max-conns", "7"},
			want: map[string]any{"db_max_conns": float64(7)},
		},
		{
			name: "a comma-separated list",
			args: []string{"serve", "--api-audiences", "https://a.example.com, https://b.example.com"},
			want: map[string]any{"api_audiences": []any{"https://a.example.com", "https://b.example.com"}},
		},
		{
			name: "a list given twice is the last one, as with the environment",
			args: []string{"serve", "--trusted-proxies", "10.0.0.1", "--trusted-proxies", "10.0.0.0/8,192.168.0.1"},
			want: map[string]any{"trusted_proxies": []any{"10.0.0.0/8", "192.168.0.1"}},
		},
		{
			name: "a setting under a key with a dot",
			args: []string{"serve", "--registration-mode", "open", "--ops-addr", ""},
			want: map[string]any{"registration.mode": "open", "ops.addr": ""},
		},
		{
			name: "the --config file",
			args: []string{"serve", "--config", file},
			want: map[string]any{"issuer": "http://127.0.0.1:5555", "log_level": "debug", "addr": "127.0.0.1:5555"},
		},
		{
			name: "the environment beats the --config file, and a flag both",
			env:  map[string]string{"AJRLY_ISSUER": "http://127.0.0.1:6666", "AJRLY_ADDR": "127.0.0.1:6666"},
			args: []string{"serve", "--config", file, "--addr", "127.0.0.1:7777"},
			want: map[string]any{"issuer": "http://127.0.0.1:6666", "addr": "127.0.0.1:7777", "log_level": "debug"},
		},
		{
			name: "--config beats AJRLY_CONFIG",
			env:  map[string]string{"AJRLY_CONFIG": filepath.Join(dir, "missing.yaml")},
			args: []string{"serve", "--config", file},
			want: map[string]any{"issuer": "http://127.0.0.1:5555"},
		},
		{
			name: "a --dsn flag beats AJRLY_DSN",
			env:  map[string]string{"AJRLY_DSN": "postgres://ajrly@127.0.0.1:1/envdb"},
			args: []string{"serve", "--dsn", "postgres://ajrly:pw@127.0.0.1:1/flagdb"},
			want: map[string]any{"dsn": "postgres://ajrly:xxxxx@127.0.0.1:1/flagdb"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := startingConfig(t, tc.env, tc.args...)
			for key, want := range tc.want {
				if diff := cmp.Diff(want, got[key]); diff != "" {
					t.Errorf("%s (-want +got):\n%s", key, diff)
				}
			}
		})
	}

	t.Run("a flag after an argument", func(t *testing.T) {
		t.Parallel()
		db := newSQLite(t)
		path := filepath.Join(t.TempDir(), "other.db")
		r := runCLI(t, db.env, "", "clients", "delete", "cl_x", "--dsn", "sqlite://"+path)
		wantCode(t, r, 1)
		wantContains(t, "stderr", r.stderr, "there is no database at "+path+" yet")
	})
	t.Run("a flag before --, and after it an argument that looks like a flag", func(t *testing.T) {
		t.Parallel()
		db := newSQLite(t)
		db.migrate(t)
		r := db.run(t, "keys", "revoke", "--log-level", "error", "--", "--key_x")
		wantCode(t, r, 1)
		wantContains(t, "stderr", r.stderr, `no active API key has the id "--key_x"`)
	})
}

// Every settings flag is of a kind pflag knows, so that its help shows the
// default and a bool needs no value.
func TestSettingsFlagsHaveKnownTypes(t *testing.T) {
	t.Parallel()
	std := flag.NewFlagSet("settings", flag.ContinueOnError)
	config.NewLoader(std)
	std.VisitAll(func(f *flag.Flag) {
		pf := bridgeFlag(std, f)
		typ := pf.Value.Type()
		if !slices.Contains([]string{"string", "bool", "int", "duration", "strings"}, typ) {
			t.Errorf("--%s is of the unknown type %q", f.Name, typ)
		}
		if (typ == "bool") != (pf.NoOptDefVal == "true") {
			t.Errorf("--%s of type %s has NoOptDefVal %q", f.Name, typ, pf.NoOptDefVal)
		}
		if !isSetting(pf) {
			t.Errorf("--%s is not marked as a setting", f.Name)
		}
	})
}

// operationsDoc is the page with the command line's overview.
const operationsDoc = "../../docs/operations.md"

// TestOperationsDocShowsTheOverview keeps the overview in
// docs/operations.md what ajrly-auth -h prints.
func TestOperationsDocShowsTheOverview(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(operationsDoc)
	if err != nil {
		t.Fatalf("read the operations page: %v", err)
	}
	_, after, ok := strings.Cut(string(b), "\n`bin/ajrly-auth -h`")
	if !ok {
		t.Fatalf("%s has no paragraph starting with `bin/ajrly-auth -h`", operationsDoc)
	}
	_, block, ok := strings.Cut(after, "\n```\n")
	if ok {
		block, _, ok = strings.Cut(block, "\n```\n")
	}
	if !ok {
		t.Fatalf("%s: no ``` block after `bin/ajrly-auth -h`", operationsDoc)
	}
	r := runCLI(t, nil, "", "-h")
	wantCode(t, r, 0)
	if diff := cmp.Diff(r.stdout, block+"\n"); diff != "" {
		t.Errorf("%s shows an overview that is not what ajrly-auth -h prints (-printed +doc):\n%s", operationsDoc, diff)
	}
}

package archtest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/ajrly/ajrly-auth/"

// forbidden lists, for each top-level package tree, the trees of this
// module it must not import (DESIGN, "Layout and dependency direction":
// cmd → handlers/* → provider/* → storage; config read by cmd only;
// templates and static are leaves).
var forbidden = map[string][]string{
	"storage":   {"provider", "handlers", "cmd", "config", "templates", "static"},
	"provider":  {"handlers", "cmd", "config", "templates", "static"},
	"handlers":  {"cmd", "config"},
	"config":    {"storage", "provider", "handlers", "cmd", "templates", "static"},
	"templates": {"storage", "provider", "handlers", "cmd", "config", "static"},
	"static":    {"storage", "provider", "handlers", "cmd", "config", "templates"},
	// internal packages (the mailer) are leaves every layer may use.
	"internal": {"storage", "provider", "handlers", "cmd", "config", "templates", "static"},
}

// testSupport are packages made for tests: only test files, and other
// test-support packages, may import them.
var testSupport = []string{"storage/storagetest", "handlers/web/webtest", "internal/mail/mailtest"}

// goFile is one Go file of the module and the module's packages it imports.
type goFile struct {
	rel, pkg string // path from the root; the package's path in the module
	test     bool
	imports  []string // paths in the module, without the module prefix
}

// problems checks one file against the rules and names each violation.
func problems(f goFile) []string {
	var out []string
	top := strings.Split(f.pkg, "/")[0]
	surface := surfaceOf(f.pkg)
	for _, imp := range f.imports {
		target := strings.Split(imp, "/")[0]
		for _, bad := range forbidden[top] {
			if target == bad {
				out = append(out, f.rel+" imports "+imp+": "+top+" must not depend on "+bad)
			}
		}
		if target == "config" && top != "cmd" && top != "config" && !slices.Contains(forbidden[top], "config") {
			out = append(out, f.rel+" imports config: only cmd reads the configuration and passes values down")
		}
		if !f.test && isTestSupport(imp) && !isTestSupport(f.pkg) {
			out = append(out, f.rel+" imports "+imp+": test-support packages are for tests only")
		}
		if s := surfaceOf(imp); s != "" && surface != "" && s != surface {
			out = append(out, f.rel+" imports "+imp+": the "+surface+" surface must not depend on the "+s+" surface")
		}
		if (f.pkg == "handlers/web" || strings.HasPrefix(f.pkg, "handlers/web/")) && (imp == "handlers" || surfaceOf(imp) != "") {
			out = append(out, f.rel+" imports "+imp+": the shared web kit must not depend on a surface")
		}
		if surface != "" && imp == "handlers" {
			out = append(out, f.rel+" imports handlers: a surface must not depend on the package that wires them")
		}
	}
	return out
}

// surfaceOf names the handlers surface a package belongs to
// (handlers/<surface>/...), or "" for the wiring, the web kit and the
// rest of the module.
func surfaceOf(pkg string) string {
	parts := strings.Split(pkg, "/")
	if len(parts) < 2 || parts[0] != "handlers" || parts[1] == "web" {
		return ""
	}
	return parts[1]
}

func isTestSupport(pkg string) bool {
	for _, p := range testSupport {
		if pkg == p || strings.HasPrefix(pkg, p+"/") {
			return true
		}
	}
	return false
}

func TestImportsFlowOneWay(t *testing.T) {
	t.Parallel()
	files := moduleFiles(t)
	if len(files) < 50 {
		t.Fatalf("checked only %d files; is the repository root right?", len(files))
	}
	for _, f := range files {
		for _, p := range problems(f) {
			t.Error(p)
		}
	}
}

// TestRulesCatchEachKindOfEdge shows that each rule refuses what it is
// for, so that a rule broken by an edit cannot pass silently.
func TestRulesCatchEachKindOfEdge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		file goFile
		want string // a fragment of the one problem; "" for none
	}{
		{"storage reaching up to provider", goFile{rel: "storage/x.go", pkg: "storage", imports: []string{"provider"}}, "storage must not depend on provider"},
		{"a provider domain reaching up to handlers", goFile{rel: "provider/clients/x.go", pkg: "provider/clients", imports: []string{"handlers/web"}}, "provider must not depend on handlers"},
		{"a surface importing another", goFile{rel: "handlers/settings/x.go", pkg: "handlers/settings", imports: []string{"handlers/signin"}}, "settings surface must not depend on the signin surface"},
		{"a surface's test importing another", goFile{rel: "handlers/oauth/x_test.go", pkg: "handlers/oauth", test: true, imports: []string{"handlers/ops"}}, "oauth surface must not depend on the ops surface"},
		{"the web kit importing a surface", goFile{rel: "handlers/web/x.go", pkg: "handlers/web", imports: []string{"handlers/oauth"}}, "web kit must not depend on a surface"},
		{"a surface importing the wiring", goFile{rel: "handlers/signin/x.go", pkg: "handlers/signin", imports: []string{"handlers"}}, "must not depend on the package that wires them"},
		{"handlers reading config", goFile{rel: "handlers/x.go", pkg: "handlers", imports: []string{"config"}}, "handlers must not depend on config"},
		{"provider reading config", goFile{rel: "provider/x.go", pkg: "provider", imports: []string{"config"}}, "provider must not depend on config"},
		{"production code importing test support", goFile{rel: "handlers/oauth/x.go", pkg: "handlers/oauth", imports: []string{"handlers/web/webtest"}}, "for tests only"},
		{"a surface on the web kit and provider", goFile{rel: "handlers/oauth/x.go", pkg: "handlers/oauth", imports: []string{"handlers/web", "provider", "provider/clients", "storage"}}, ""},
		{"a surface's test on test support", goFile{rel: "handlers/oauth/x_test.go", pkg: "handlers/oauth", test: true, imports: []string{"handlers/web/webtest", "storage/storagetest"}}, ""},
		{"the wiring on every surface", goFile{rel: "handlers/router.go", pkg: "handlers", imports: []string{"handlers/oauth", "handlers/signin", "handlers/web"}}, ""},
		{"e2e reading config", goFile{rel: "e2e/x_test.go", pkg: "e2e", test: true, imports: []string{"config"}}, "only cmd reads the configuration"},
		{"the mailer reaching up to storage", goFile{rel: "internal/mail/x.go", pkg: "internal/mail", imports: []string{"storage"}}, "internal must not depend on storage"},
		{"cmd on everything", goFile{rel: "cmd/ajrly-auth/main.go", pkg: "cmd/ajrly-auth", imports: []string{"config", "handlers", "provider", "storage"}}, ""},
	}
	for _, tc := range tests {
		got := problems(tc.file)
		switch {
		case tc.want == "" && len(got) != 0:
			t.Errorf("%s: want no problem, got %q", tc.name, got)
		case tc.want != "" && (len(got) != 1 || !strings.Contains(got[0], tc.want)):
			t.Errorf("%s: want one problem with %q, got %q", tc.name, tc.want, got)
		}
	}
}

// moduleFiles parses the imports of every Go file of the module, tests
// included.
func moduleFiles(t *testing.T) []goFile {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod at %s", root)
	}
	var files []goFile
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); (strings.HasPrefix(name, ".") || name == "testdata") && path != root {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		parsed, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		f := goFile{rel: rel, pkg: filepath.ToSlash(filepath.Dir(rel)), test: strings.HasSuffix(rel, "_test.go")}
		for _, imp := range parsed.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); strings.HasPrefix(p, module) {
				f.imports = append(f.imports, strings.TrimPrefix(p, module))
			}
		}
		files = append(files, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

package e2e

import (
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// conformanceDoc is the OpenID conformance table, module by module.
const conformanceDoc = "../docs/conformance.md"

// TestConformanceDocNamesEveryModuleTestThatExists keeps docs/conformance.md
// true: every test it names is a Test function in e2e, and every module port
// (a Test function whose name starts with TestOIDCC) is in the table.
func TestConformanceDocNamesEveryModuleTestThatExists(t *testing.T) {
	listed := conformanceTableTests(t, conformanceDoc)
	tests := e2eTestFuncs(t)

	for _, name := range slices.Sorted(maps.Keys(listed)) {
		if line := listed[name]; !tests[name] {
			t.Errorf("%s:%d: names %s, which is not a Test function in e2e/*_test.go", conformanceDoc, line, name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(tests)) {
		if _, ok := listed[name]; !ok && strings.HasPrefix(name, "TestOIDCC") {
			t.Errorf("%s ports a conformance module but is not in the table in %s", name, conformanceDoc)
		}
	}
}

// conformanceTableTests returns the test names of the Test column of the
// Markdown table in path whose header has that column, each with the line
// it is first named on. It fails the test if there is no such table.
func conformanceTableTests(t *testing.T, path string) map[string]int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read the conformance table: %v", err)
	}
	listed := map[string]int{}
	column := -1
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") {
			column = -1
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for j := range cells {
			cells[j] = strings.TrimSpace(cells[j])
		}
		switch {
		case column < 0:
			for j, c := range cells {
				if c == "Test" {
					column = j
				}
			}
		case strings.Trim(cells[0], "-: ") == "":
			// the separator under the header
		case column >= len(cells):
			t.Fatalf("%s:%d: the row has no Test cell: %q", path, i+1, line)
		default:
			name := strings.Trim(cells[column], "`")
			if !strings.HasPrefix(name, "Test") {
				t.Fatalf("%s:%d: the Test cell %q is not a test name", path, i+1, cells[column])
			}
			if _, ok := listed[name]; !ok {
				listed[name] = i + 1
			}
		}
	}
	if len(listed) == 0 {
		t.Fatalf("%s has no table with a Test column", path)
	}
	return listed
}

// e2eTestFuncs returns the names of the top-level Test functions in this
// directory's _test.go files, read with go/parser.
func e2eTestFuncs(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob("*_test.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("list e2e test files: %v (found %d)", err, len(files))
	}
	fset := token.NewFileSet()
	tests := map[string]bool{}
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("parse %s: %v", f, err)
		}
		for _, d := range file.Decls {
			if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv == nil && strings.HasPrefix(fn.Name.Name, "Test") && isTestingT(fn.Type) {
				tests[fn.Name.Name] = true
			}
		}
	}
	return tests
}

// isTestingT reports whether fn is func(*testing.T), the signature go test
// runs as a test.
func isTestingT(fn *ast.FuncType) bool {
	if fn.Results != nil || len(fn.Params.List) != 1 || len(fn.Params.List[0].Names) > 1 {
		return false
	}
	star, ok := fn.Params.List[0].Type.(*ast.StarExpr)
	if !ok {
		return false
	}
	sel, ok := star.X.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	pkg, ok := sel.X.(*ast.Ident)
	return ok && pkg.Name == "testing" && sel.Sel.Name == "T"
}

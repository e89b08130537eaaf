package archtest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/ajrly/ajrly-auth/"

// forbidden lists, for each package tree, the packages of this module it
// must not import.
var forbidden = map[string][]string{
	"storage":   {"provider", "handlers", "cmd", "config", "templates", "static"},
	"provider":  {"handlers", "cmd", "config", "templates", "static"},
	"handlers":  {"cmd", "config"},
	"config":    {"storage", "provider", "handlers", "cmd", "templates", "static"},
	"templates": {"storage", "provider", "handlers", "cmd", "config", "static"},
	"static":    {"storage", "provider", "handlers", "cmd", "config", "templates"},
}

func TestImportsFlowOneWay(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); strings.HasPrefix(name, ".") && path != root {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		top := strings.Split(filepath.ToSlash(rel), "/")[0]
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if !strings.HasPrefix(p, module) {
				continue
			}
			target := strings.Split(strings.TrimPrefix(p, module), "/")[0]
			for _, bad := range forbidden[top] {
				if target == bad {
					t.Errorf("%s imports %s: %s must not depend on %s", rel, p, top, bad)
				}
			}
			if target == "config" && top != "cmd" {
				t.Errorf("%s imports config: only cmd reads the configuration and passes values down", rel)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 20 {
		t.Fatalf("checked only %d files; is the repository root right?", checked)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod at %s", root)
	}
}

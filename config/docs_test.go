package config

import (
	"os"
	"strings"
	"testing"
)

// configurationDoc is the reference page whose settings table this test
// holds to the settings table in settings.go.
const configurationDoc = "../docs/configuration.md"

// docNone is how the doc writes an empty default, and docNoFlag a setting
// without a flag.
const (
	docNone   = "(none)"
	docNoFlag = "—"
)

// A docSetting is one row of the doc's settings table, with the cells the
// test compares as written (backquotes removed).
type docSetting struct {
	line                  int
	key, env, flag, value string
}

// TestConfigurationDocListsEverySettingWithItsDefault keeps
// docs/configuration.md true: every setting in settings.go has a row with
// its YAML key, environment variable, flag and Default() value, and every
// row is a setting.
func TestConfigurationDocListsEverySettingWithItsDefault(t *testing.T) {
	rows := readSettingsTable(t, configurationDoc)
	documented := map[string]docSetting{}
	for _, r := range rows {
		if prev, ok := documented[r.key]; ok {
			t.Errorf("%s:%d: %s is documented twice (first on line %d)", configurationDoc, r.line, r.key, prev.line)
		}
		documented[r.key] = r
	}

	defaults := Default()
	for _, s := range settings {
		t.Run(s.key, func(t *testing.T) {
			r, ok := documented[s.key]
			if !ok {
				t.Fatalf("%s has no row for the setting %s", configurationDoc, s.key)
			}
			wantFlag := docNoFlag
			if s.flag != "" {
				wantFlag = "--" + s.flag
			}
			wantValue := valueOf(s.field(&defaults)).String()
			if wantValue == "" {
				wantValue = docNone
			}
			for _, c := range []struct{ column, got, want string }{
				{"Environment", r.env, s.env},
				{"Flag", r.flag, wantFlag},
				{"Default", r.value, wantValue},
			} {
				if c.got != c.want {
					t.Errorf("%s:%d: %s: %s column is %q, the code says %q", configurationDoc, r.line, s.key, c.column, c.got, c.want)
				}
			}
		})
	}

	for _, r := range rows {
		if _, ok := settingByKey(r.key); !ok {
			t.Errorf("%s:%d: documents %q, which is not a setting in settings.go", configurationDoc, r.line, r.key)
		}
	}
}

// readSettingsTable returns the rows of the Markdown table in path whose
// header starts with "YAML key". It fails the test if there is no such
// table, so that renaming the header cannot turn the check off.
func readSettingsTable(t *testing.T, path string) []docSetting {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read the configuration reference: %v", err)
	}
	var rows []docSetting
	inTable := false
	for i, line := range strings.Split(string(b), "\n") {
		cells, ok := tableCells(line)
		switch {
		case !ok:
			if inTable {
				return rows
			}
		case !inTable:
			inTable = len(cells) > 0 && cells[0] == "YAML key"
		case strings.Trim(cells[0], "-: ") == "":
			// the separator under the header
		case len(cells) < 4:
			t.Fatalf("%s:%d: a settings row needs YAML key, Environment, Flag and Default cells, got %q", path, i+1, line)
		default:
			rows = append(rows, docSetting{
				line:  i + 1,
				key:   unquote(cells[0]),
				env:   unquote(cells[1]),
				flag:  unquote(cells[2]),
				value: unquote(cells[3]),
			})
		}
	}
	if len(rows) == 0 {
		t.Fatalf("%s has no settings table (a table whose header starts with | YAML key |)", path)
	}
	return rows
}

// tableCells splits a Markdown table row into its trimmed cells; ok is
// false for a line that is not a table row. A pipe escaped as \| stays in
// its cell.
func tableCells(line string) (cells []string, ok bool) {
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, "|") || !strings.HasSuffix(line, "|") || len(line) < 2 {
		return nil, false
	}
	var cell strings.Builder
	for i := 1; i < len(line); i++ {
		switch {
		case line[i] == '\\' && i+1 < len(line) && line[i+1] == '|':
			cell.WriteByte('|')
			i++
		case line[i] == '|':
			cells = append(cells, strings.TrimSpace(cell.String()))
			cell.Reset()
		default:
			cell.WriteByte(line[i])
		}
	}
	return cells, true
}

// unquote removes the backquotes of a cell written as `code`.
func unquote(cell string) string {
	if len(cell) >= 2 && strings.HasPrefix(cell, "`") && strings.HasSuffix(cell, "`") {
		return cell[1 : len(cell)-1]
	}
	return cell
}

package config

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Loader binds the settings to a FlagSet so that every subcommand takes the
// same flags, and loads a Config once the flags are parsed.
type Loader struct {
	fs   *flag.FlagSet
	file string // --config
	// flags receives the flag values during fs.Parse. It starts as Default
	// so that fs.PrintDefaults shows the defaults.
	flags Config
}

// NewLoader registers --config and a flag for every setting that has one on
// fs. Each flag's usage names its environment variable.
func NewLoader(fs *flag.FlagSet) *Loader {
	l := &Loader{fs: fs, flags: Default()}
	fs.StringVar(&l.file, "config", "", "read settings from the YAML `file` (env AJRLY_CONFIG)")
	for _, s := range settings {
		if s.flag == "" {
			continue
		}
		fs.Var(valueOf(s.field(&l.flags)), s.flag, s.usage+" (env "+s.env+")")
	}
	return l
}

// Load returns the settings from, in rising order of precedence, Default,
// the YAML file named by --config or AJRLY_CONFIG, the AJRLY_* environment
// variables and the flags given on the command line. An environment variable
// set to "" counts as unset. Load reads SecretFile into Secret and ends with
// Validate; the error joins every problem found.
//
// Call Load after fs.Parse. getenv looks up an environment variable;
// pass os.LookupEnv.
func (l *Loader) Load(getenv func(string) (string, bool)) (Config, error) {
	if !l.fs.Parsed() {
		return Config{}, errors.New("load config: flags not parsed; call Parse before Load")
	}
	lookup := func(name string) (string, bool) {
		v, ok := getenv(name)
		return v, ok && v != ""
	}
	given := map[string]bool{}
	l.fs.Visit(func(f *flag.Flag) { given[f.Name] = true })

	cfg := Default()
	var errs []error

	path := l.file
	if v, ok := lookup("AJRLY_CONFIG"); ok && !given["config"] {
		path = v
	}
	if path != "" {
		fileErrs, err := loadFile(&cfg, path)
		if err != nil {
			return Config{}, err
		}
		errs = append(errs, fileErrs...)
	}

	for _, r := range removedSettings {
		if _, ok := lookup(r.env); ok {
			errs = append(errs, fmt.Errorf("%s was removed: %s", r.env, r.instead))
		}
	}
	for _, s := range settings {
		if v, ok := lookup(s.env); ok {
			if err := valueOf(s.field(&cfg)).Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", s.env, err))
			}
		}
	}

	for _, s := range settings {
		if s.flag != "" && given[s.flag] {
			// The text comes from the flag's own value, so it parses.
			if err := valueOf(s.field(&cfg)).Set(valueOf(s.field(&l.flags)).String()); err != nil {
				errs = append(errs, fmt.Errorf("-%s: %w", s.flag, err))
			}
		}
	}

	cfg.Issuer = strings.TrimRight(cfg.Issuer, "/")

	switch {
	case cfg.Secret != "" && cfg.SecretFile != "":
		errs = append(errs, errors.New("secret: set secret or secret_file, not both"))
	case cfg.SecretFile != "":
		b, err := os.ReadFile(cfg.SecretFile)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("secret_file: %w", err))
		case strings.TrimSpace(string(b)) == "":
			errs = append(errs, fmt.Errorf("secret_file: %s is empty", cfg.SecretFile))
		default:
			cfg.Secret = strings.TrimSpace(string(b))
		}
	}

	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// removedSetting returns what to do instead of a removed setting's YAML key.
func removedSetting(key string) (string, bool) {
	for _, r := range removedSettings {
		if r.key == key {
			return r.instead, true
		}
	}
	return "", false
}

// loadFile applies the YAML file at path to cfg. It returns an error if the
// file cannot be read or is not YAML, and a list of problems with
// individual keys otherwise.
func loadFile(cfg *Config, path string) ([]error, error) {
	data, err := os.ReadFile(path) //nolint:gosec // G304: the file the operator named with --config
	if err != nil {
		return nil, fmt.Errorf("read config file: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return nil, nil // empty, or only comments
	}
	root := doc.Content[0]
	if root.Tag == "!!null" {
		return nil, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("config file %s: line %d: want settings as key: value lines", path, root.Line)
	}
	f := fileLoader{path: path, cfg: cfg}
	f.mapping(root, "")
	return f.errs, nil
}

// fileLoader walks the YAML tree. The settings table, not a struct, says
// which keys exist, so unknown keys are found here rather than by
// yaml.Decoder.KnownFields.
type fileLoader struct {
	path string
	cfg  *Config
	errs []error
}

func (f *fileLoader) errorf(n *yaml.Node, format string, args ...any) {
	f.errs = append(f.errs, fmt.Errorf("config file %s: line %d: %s", f.path, n.Line, fmt.Sprintf(format, args...)))
}

// mapping applies the settings in m, whose keys are prefixed by prefix.
func (f *fileLoader) mapping(m *yaml.Node, prefix string) {
	seen := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], alias(m.Content[i+1])
		key := prefix + k.Value
		if seen[key] {
			f.errorf(k, "duplicate key %q", key)
			continue
		}
		seen[key] = true
		if s, ok := settingByKey(key); ok {
			f.set(s, v)
		} else if v.Kind == yaml.MappingNode && isKeyPrefix(key+".") {
			f.mapping(v, key+".")
		} else if instead, ok := removedSetting(key); ok {
			f.errorf(k, "%s was removed: %s", key, instead)
		} else {
			f.errorf(k, "unknown key %q", key)
		}
	}
}

// set applies one setting. The value is never quoted in errors it cannot
// parse as anything: it may be the secret.
func (f *fileLoader) set(s setting, v *yaml.Node) {
	p := s.field(f.cfg)
	switch {
	case v.Tag == "!!null":
		// "key:" with no value leaves the default.
	case v.Kind == yaml.ScalarNode:
		if err := valueOf(p).Set(v.Value); err != nil {
			f.errorf(v, "%s: %v", s.key, err)
		}
	case v.Kind == yaml.SequenceNode:
		list, ok := p.(*[]string)
		if !ok {
			f.errorf(v, "%s: want a single value, not a list", s.key)
			return
		}
		items := []string{}
		for _, item := range v.Content {
			if item = alias(item); item.Kind != yaml.ScalarNode {
				f.errorf(item, "%s: list items must be single values", s.key)
				return
			}
			items = append(items, strings.TrimSpace(item.Value))
		}
		*list = items
	default:
		f.errorf(v, "%s: want a single value", s.key)
	}
}

// alias returns the node an alias (*name) refers to, or n itself.
func alias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

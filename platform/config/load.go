package config

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"
	"github.com/voxflow/voxflow/internal/suggest"
)

// ErrInvalid is wrapped by every configuration error.
var ErrInvalid = errors.New("invalid configuration")

// Flags are the settings a command takes on its command line, plus
// --config. Values given on the command line are kept until Load applies
// them last, over the file and the environment.
type Flags struct {
	file    string
	pending []assignment
}

// assignment is one flag given: its setting, text and the name it was
// given by (an alias names itself in errors).
type assignment struct{ key, text, flag string }

// Bind registers --config and the flags of the settings with keys on fs.
// The help shows each setting's default. It panics on an unknown key (a
// programming error).
func Bind(fs *pflag.FlagSet, keys ...string) *Flags {
	f := &Flags{}
	fs.StringVar(&f.file, "config", "", "YAML configuration file (settings by key; flags and environment override it)")
	defaults := Defaults()
	table := defaults.settings()
	for _, key := range keys {
		s, ok := lookup(table, key)
		if !ok {
			panic("config: Bind of unknown key " + key)
		}
		usage := fmt.Sprintf("%s (%s, $%s)", s.usage, s.key, s.env)
		fl := fs.VarPF(&flagValue{key: key, flag: s.flag, kind: s.val.kind(), def: s.val.String(), f: f}, s.flag, "", usage)
		if s.val.kind() == "bool" {
			fl.NoOptDefVal = "true"
		}
		if alias, ok := flagAliases[key]; ok {
			fs.VarPF(&flagValue{key: key, flag: alias, kind: s.val.kind(), def: s.val.String(), f: f}, alias, "", usage)
			_ = fs.MarkHidden(alias)
		}
	}
	return f
}

// flagValue records a flag's value for Load, after checking it parses.
type flagValue struct {
	key, flag, kind, def string
	f                    *Flags
}

func (v *flagValue) Set(s string) error {
	var scratch Config
	st, _ := lookup(scratch.settings(), v.key)
	if err := st.val.set(s); err != nil {
		return err
	}
	v.f.pending = append(v.f.pending, assignment{v.key, s, v.flag})
	return nil
}
func (v *flagValue) String() string { return v.def }
func (v *flagValue) Type() string   { return v.kind }

// Load builds the configuration: defaults, the --config file, the
// environment, the flags given, then Validate.
func (f *Flags) Load() (Config, error) {
	return f.load(os.LookupEnv)
}

func (f *Flags) load(getenv func(string) (string, bool)) (Config, error) {
	c := Defaults()
	c.origins = map[string]string{}
	table := c.settings()
	if f.file != "" {
		if err := c.applyFile(table, f.file); err != nil {
			return c, err
		}
	}
	for i := range table {
		s := &table[i]
		if text, ok := getenv(s.env); ok {
			if err := s.val.set(text); err != nil {
				return c, fmt.Errorf("%w: $%s (%s): %w", ErrInvalid, s.env, s.key, err)
			}
			c.origins[s.key] = "$" + s.env
		}
	}
	for _, a := range f.pending {
		s, _ := lookup(table, a.key)
		if err := s.val.set(a.text); err != nil {
			return c, fmt.Errorf("%w: --%s (%s): %w", ErrInvalid, a.flag, s.key, err)
		}
		c.origins[s.key] = "--" + a.flag
	}
	c.Temporal.tlsSet = c.Origin("temporal.tls") != "default"
	return c, c.Validate()
}

// Origin says where a setting's value came from: a file position, an
// environment variable, a flag, or "default".
func (c Config) Origin(key string) string {
	if o, ok := c.origins[key]; ok {
		return o
	}
	return "default"
}

// problem is a Validate error naming the key and where its value came from.
func (c Config) problem(key, format string, args ...any) error {
	return fmt.Errorf("%w: %s (from %s): %s", ErrInvalid, key, c.Origin(key), fmt.Sprintf(format, args...))
}

// nearestKey returns the key closest to a mistyped one, if any is close.
func nearestKey(table []setting, key string) string {
	keys := make([]string, len(table))
	for i, s := range table {
		keys[i] = s.key
	}
	return suggest.Nearest(key, keys, 4)
}

// joinKey is a dotted key path.
func joinKey(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// hasPrefix reports whether some setting's key lies under prefix.
func hasPrefix(table []setting, prefix string) bool {
	for _, s := range table {
		if strings.HasPrefix(s.key, prefix+".") {
			return true
		}
	}
	return false
}

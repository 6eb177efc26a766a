package redact

import (
	"encoding/json"
	"slices"
	"strings"
)

// Vars returns a copy of vars fit to record: the sensitive variables'
// values are MarkSecret, and every other string, however deeply nested,
// is passed through Text with the sensitive values as secrets (so a card
// number said into a free-text variable is masked too). A sensitive name
// is a variable ("card") or a dotted path into nested maps
// ("customer.ssn"). Numbers, booleans and nil are kept; maps and slices
// are copied as they are walked; values of other types are kept as they
// are, not walked. vars is never modified.
func Vars(vars map[string]any, sensitive []string) map[string]any {
	if vars == nil {
		return nil
	}
	set := prepareSecrets(Secrets(vars, sensitive))
	out := copyMap(vars, set)
	for _, name := range sensitive {
		maskPath(out, name)
	}
	return out
}

// Secrets returns the string forms of the sensitive variables' values, as
// Text takes them: sorted, without duplicates or empty strings. Numbers
// are written as encoding/json writes them (4471, 12.5, 1e+21); booleans,
// nil, NaN and infinities are left out ("true" is no secret worth masking
// everywhere); a map or slice gives all the strings and numbers inside it.
func Secrets(vars map[string]any, sensitive []string) []string {
	var out []string
	for _, name := range sensitive {
		for _, v := range lookup(vars, name) {
			out = appendScalars(out, v)
		}
	}
	out = slices.DeleteFunc(out, func(s string) bool { return strings.TrimSpace(s) == "" })
	slices.Sort(out)
	return slices.Compact(out)
}

// lookup returns the values a sensitive name refers to: the variable of
// that name and, for a dotted name, the value at that path.
func lookup(vars map[string]any, name string) []any {
	var out []any
	if v, ok := vars[name]; ok {
		out = append(out, v)
	}
	path := strings.Split(name, ".")
	if len(path) < 2 {
		return out
	}
	var cur any = vars
	for _, key := range path {
		v, ok := mapValue(cur, key)
		if !ok {
			return out
		}
		cur = v
	}
	return append(out, cur)
}

func mapValue(m any, key string) (any, bool) {
	switch m := m.(type) {
	case map[string]any:
		v, ok := m[key]
		return v, ok
	case map[string]string:
		v, ok := m[key]
		return v, ok
	}
	return nil, false
}

// appendScalars appends the string forms of the strings and numbers in v.
func appendScalars(out []string, v any) []string {
	switch v := v.(type) {
	case string:
		return append(out, v)
	case map[string]any:
		for _, e := range v {
			out = appendScalars(out, e) // order does not matter: Secrets sorts
		}
	case map[string]string:
		for _, e := range v {
			out = append(out, e)
		}
	case []any:
		for _, e := range v {
			out = appendScalars(out, e)
		}
	case []string:
		out = append(out, v...)
	case []map[string]any:
		for _, e := range v {
			out = appendScalars(out, e)
		}
	default:
		if s, ok := numberString(v); ok {
			out = append(out, s)
		}
	}
	return out
}

// numberString writes a number as encoding/json does; NaN and the
// infinities, which have no JSON form, are no number.
func numberString(v any) (string, bool) {
	switch v := v.(type) {
	case json.Number:
		return v.String(), true
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, uintptr, float32, float64:
		b, err := json.Marshal(v)
		return string(b), err == nil
	}
	return "", false
}

// copyValue copies v, passing its strings through Text.
func copyValue(v any, set secretSet) any {
	switch v := v.(type) {
	case string:
		return set.redact(v)
	case map[string]any:
		return copyMap(v, set)
	case map[string]string:
		if v == nil {
			return v
		}
		out := make(map[string]string, len(v))
		for k, e := range v {
			out[k] = set.redact(e)
		}
		return out
	case []any:
		if v == nil {
			return v
		}
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = copyValue(e, set)
		}
		return out
	case []string:
		if v == nil {
			return v
		}
		out := make([]string, len(v))
		for i, e := range v {
			out[i] = set.redact(e)
		}
		return out
	case []map[string]any:
		if v == nil {
			return v
		}
		out := make([]map[string]any, len(v))
		for i, e := range v {
			out[i] = copyMap(e, set)
		}
		return out
	}
	return v
}

func copyMap(m map[string]any, set secretSet) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = copyValue(v, set)
	}
	return out
}

// maskPath replaces the value of a sensitive name in out, a copy that
// Vars owns: the variable of that name and the value at its dotted path.
func maskPath(out map[string]any, name string) {
	if _, ok := out[name]; ok {
		out[name] = MarkSecret
	}
	path := strings.Split(name, ".")
	if len(path) < 2 {
		return
	}
	var cur any = out
	for _, key := range path[:len(path)-1] {
		v, ok := mapValue(cur, key)
		if !ok {
			return
		}
		cur = v
	}
	last := path[len(path)-1]
	switch m := cur.(type) {
	case map[string]any:
		if _, ok := m[last]; ok {
			m[last] = MarkSecret
		}
	case map[string]string:
		if _, ok := m[last]; ok {
			m[last] = MarkSecret
		}
	}
}

package flows

// YAML and JSON codecs of the flow model's types: they read a value from
// goccy's AST keeping its position in the file (for diagnostics at the
// right line and column) and write it back as YAML or JSON.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// scalarStyle says how a YAML scalar was written, to map offsets inside the
// value back to the file.
type scalarStyle uint8

const (
	stylePlain scalarStyle = iota
	styleQuoted
	styleBlock
)

// origin is where a scalar's value starts in the YAML file. Line and Col are
// 1-based; zero means unknown (built in code, or decoded from JSON).
type origin struct {
	Line, Col int
	Style     scalarStyle
}

// at returns the file position of the rune offset off inside value, given
// the file's lines (needed for block scalars, whose content is indented on
// the lines after the indicator).
func (o origin) at(value string, off int, lines []string) (int, int) {
	if o.Line == 0 {
		return 0, 0
	}
	line, col := 0, 0
	for i, r := range []rune(value) {
		if i == off {
			break
		}
		if r == '\n' {
			line++
			col = 0
		} else {
			col++
		}
	}
	switch o.Style {
	case styleBlock:
		indent := 0
		// The block's indentation is that of its first content line.
		if o.Line < len(lines) {
			text := lines[o.Line]
			indent = len(text) - len(strings.TrimLeft(text, " "))
		}
		return o.Line + 1 + line, indent + 1 + col
	case styleQuoted:
		if line == 0 {
			return o.Line, o.Col + 1 + col
		}
	default:
		if line == 0 {
			return o.Line, o.Col + col
		}
	}
	// Folded multi-line plain or quoted scalars: point at the value start.
	return o.Line, o.Col
}

// UnmarshalYAML reads the expression from a YAML scalar, keeping its position.
func (e *Expr) UnmarshalYAML(node ast.Node) error {
	s, o, err := scalarText(node)
	if err != nil {
		return err
	}
	e.Source, e.pos = s, o
	return nil
}

// MarshalYAML writes the expression's source.
func (e *Expr) MarshalYAML() (any, error) { return e.String(), nil }

// MarshalJSON writes the expression's source as a JSON string.
func (e *Expr) MarshalJSON() ([]byte, error) { return json.Marshal(e.String()) }

// UnmarshalJSON reads the expression from a JSON string.
func (e *Expr) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("expression must be a string: %w", err)
	}
	e.Source = s
	return nil
}

// UnmarshalYAML reads the template from a YAML scalar, keeping its position.
func (t *Template) UnmarshalYAML(node ast.Node) error {
	s, o, err := scalarText(node)
	if err != nil {
		return err
	}
	*t = Template{raw: s, pos: o}
	return nil
}

// MarshalYAML writes the template's raw text.
func (t Template) MarshalYAML() (any, error) { return t.raw, nil }

// MarshalJSON writes the template's raw text as a JSON string.
func (t Template) MarshalJSON() ([]byte, error) { return json.Marshal(t.raw) }

// UnmarshalJSON reads the template from a JSON string.
func (t *Template) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("template must be a string: %w", err)
	}
	*t = Template{raw: s}
	return nil
}

// posError is a decoding error at a position of the YAML file.
type posError struct {
	Line, Col int
	Message   string
}

func (e *posError) Error() string { return e.Message }

func errAt(node ast.Node, format string, args ...any) error {
	e := &posError{Message: fmt.Sprintf(format, args...)}
	if node != nil {
		if tk := node.GetToken(); tk != nil && tk.Position != nil {
			e.Line, e.Col = tk.Position.Line, tk.Position.Column
		}
	}
	return e
}

// unwrap strips anchors and tags from a node.
func unwrap(node ast.Node) ast.Node {
	for i := 0; i < 100; i++ {
		switch n := node.(type) {
		case *ast.AnchorNode:
			node = n.Value
		case *ast.TagNode:
			node = n.Value
		default:
			return node
		}
	}
	return node
}

// scalarText returns the text of a scalar node and where it starts.
func scalarText(node ast.Node) (string, origin, error) {
	node = unwrap(node)
	if node == nil {
		return "", origin{}, nil
	}
	var o origin
	if tk := node.GetToken(); tk != nil && tk.Position != nil {
		o = origin{Line: tk.Position.Line, Col: tk.Position.Column}
		if tk.Type == token.DoubleQuoteType || tk.Type == token.SingleQuoteType {
			o.Style = styleQuoted
		}
	}
	switch n := node.(type) {
	case *ast.StringNode:
		return n.Value, o, nil
	case *ast.LiteralNode:
		o.Style = styleBlock
		if n.Value == nil {
			return "", o, nil
		}
		return n.Value.Value, o, nil
	case *ast.NullNode:
		return "", origin{}, nil
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return node.GetToken().Value, o, nil
	case *ast.AliasNode:
		return "", o, errAt(node, "aliases are not supported here; write the text")
	}
	return "", o, errAt(node, "expected a string, got a %s", kindName(node))
}

func kindName(node ast.Node) string {
	switch unwrap(node).(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "mapping"
	case *ast.SequenceNode:
		return "list"
	case *ast.NullNode:
		return "null"
	}
	return "scalar"
}

// mappingValues returns the key/value pairs of a mapping node (a single
// pair is a MappingValueNode in goccy's AST).
func mappingValues(node ast.Node) ([]*ast.MappingValueNode, bool) {
	switch n := unwrap(node).(type) {
	case *ast.MappingNode:
		return n.Values, true
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{n}, true
	}
	return nil, false
}

// keyText returns a mapping key as a string.
func keyText(key ast.MapKeyNode) string {
	if key == nil {
		return ""
	}
	if tk := key.GetToken(); tk != nil {
		if s, _, err := scalarText(key); err == nil {
			return s
		}
		return tk.Value
	}
	return key.String()
}

// UnmarshalYAML reads assignments from a mapping `var: expression`, in order.
func (a *Assignments) UnmarshalYAML(node ast.Node) error {
	if _, ok := unwrap(node).(*ast.NullNode); ok {
		*a = nil
		return nil
	}
	pairs, ok := mappingValues(node)
	if !ok {
		return errAt(node, "expected a mapping of variable: expression, got a %s", kindName(node))
	}
	out := make(Assignments, 0, len(pairs))
	for _, p := range pairs {
		e := &Expr{}
		if err := e.UnmarshalYAML(p.Value); err != nil {
			return err
		}
		out = append(out, Assignment{Var: keyText(p.Key), Expr: e})
	}
	*a = out
	return nil
}

// MarshalYAML writes assignments as an ordered mapping.
func (a Assignments) MarshalYAML() (any, error) {
	out := make(yaml.MapSlice, 0, len(a))
	for _, x := range a {
		out = append(out, yaml.MapItem{Key: x.Var, Value: x.Expr.String()})
	}
	return out, nil
}

// MarshalJSON writes assignments as a JSON object in their order.
func (a Assignments) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, x := range a {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(x.Var)
		if err != nil {
			return nil, fmt.Errorf("marshal assignment %s: %w", x.Var, err)
		}
		v, err := json.Marshal(x.Expr.String())
		if err != nil {
			return nil, fmt.Errorf("marshal assignment %s: %w", x.Var, err)
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads assignments from a JSON object, keeping key order.
func (a *Assignments) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("read assignments: %w", err)
	}
	if tok == nil {
		*a = nil
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("assignments must be a JSON object")
	}
	var out Assignments
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return fmt.Errorf("read assignments: %w", err)
		}
		var src string
		if err := dec.Decode(&src); err != nil {
			return fmt.Errorf("assignment %v: expression must be a string: %w", kt, err)
		}
		out = append(out, Assignment{Var: kt.(string), Expr: &Expr{Source: src}})
	}
	*a = out
	return nil
}

// UnmarshalYAML accepts a node ID (`"1": sales`) or a mapping {next, phrases}.
func (m *MenuOption) UnmarshalYAML(node ast.Node) error {
	node = unwrap(node)
	if _, ok := node.(*ast.StringNode); ok {
		s, _, _ := scalarText(node)
		*m = MenuOption{Next: s}
		return nil
	}
	if _, ok := mappingValues(node); !ok {
		return errAt(node, "a menu option is a node ID or a mapping with next and phrases, got a %s", kindName(node))
	}
	type plain MenuOption
	var p plain
	if err := yaml.NodeToValue(node, &p); err != nil {
		return err
	}
	*m = MenuOption(p)
	return nil
}

// MarshalYAML writes an option without phrases as its node ID.
func (m MenuOption) MarshalYAML() (any, error) {
	if len(m.Phrases) == 0 {
		return m.Next, nil
	}
	type plain MenuOption
	return plain(m), nil
}

// UnmarshalJSON accepts a node ID string or an object {next, phrases}.
func (m *MenuOption) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*m = MenuOption{Next: s}
		return nil
	}
	type plain MenuOption
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return fmt.Errorf("menu option: %w", err)
	}
	*m = MenuOption(p)
	return nil
}

// String writes the duration like "1m30s".
func (d Duration) String() string { return time.Duration(d).String() }

// parseDuration parses a flow duration: a Go duration with a unit, not negative.
func parseDuration(s string) (Duration, error) {
	if s == "" {
		return 0, nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		if _, nerr := strconv.ParseFloat(s, 64); nerr == nil {
			return 0, fmt.Errorf("invalid duration %q: add a unit, like %ss", s, s)
		}
		return 0, fmt.Errorf("invalid duration %q: write it like 500ms, 5s, 1m30s or 2h", s)
	}
	if v < 0 {
		return 0, fmt.Errorf("invalid duration %q: must not be negative", s)
	}
	return Duration(v), nil
}

// UnmarshalYAML reads a duration like "5s".
func (d *Duration) UnmarshalYAML(node ast.Node) error {
	s, _, err := scalarText(node)
	if err != nil {
		return err
	}
	v, err := parseDuration(s)
	if err != nil {
		return errAt(node, "%s", err.Error())
	}
	*d = v
	return nil
}

// MarshalYAML writes the duration like "5s".
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// MarshalJSON writes the duration as a string like "5s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a duration string like "5s".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string like \"5s\": %w", err)
	}
	v, err := parseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

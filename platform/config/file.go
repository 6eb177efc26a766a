package config

import (
	"fmt"
	"os"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// applyFile reads a YAML file of settings by key (nested mappings:
// `media: {sip: ":5060"}`); an unknown key or a bad value is an error at
// its line and column.
func (c *Config) applyFile(table []setting, path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%w: read --config: %w", ErrInvalid, err)
	}
	file, err := parser.ParseBytes(src, 0)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInvalid, path, err)
	}
	for _, doc := range file.Docs {
		if doc.Body == nil {
			continue
		}
		if _, null := doc.Body.(*ast.NullNode); null {
			continue
		}
		if err := c.applyMapping(table, path, "", doc.Body); err != nil {
			return err
		}
	}
	return nil
}

// applyMapping applies the pairs of one mapping under prefix.
func (c *Config) applyMapping(table []setting, path, prefix string, node ast.Node) error {
	pairs, ok := pairsOf(node)
	if !ok {
		return fmt.Errorf("%w: %s: %s: want a mapping of settings", ErrInvalid, position(path, node), nameOr(prefix))
	}
	for _, p := range pairs {
		key := joinKey(prefix, p.Key.GetToken().Value)
		if err := c.applyPair(table, path, key, p); err != nil {
			return err
		}
	}
	return nil
}

func (c *Config) applyPair(table []setting, path, key string, p *ast.MappingValueNode) error {
	at := position(path, p.Value)
	s, ok := lookup(table, key)
	switch {
	case !ok && hasPrefix(table, key):
		return c.applyMapping(table, path, key, p.Value)
	case !ok:
		msg := "unknown setting"
		if near := nearestKey(table, key); near != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", near)
		}
		return fmt.Errorf("%w: %s: %s: %s", ErrInvalid, position(path, p.Key), key, msg)
	case s.val.kind() == "key=value":
		pairs, isMap := pairsOf(p.Value)
		if !isMap {
			return fmt.Errorf("%w: %s: %s: want a mapping of name: value", ErrInvalid, at, key)
		}
		for _, kv := range pairs {
			if err := s.val.set(kv.Key.GetToken().Value + "=" + scalar(kv.Value)); err != nil {
				return fmt.Errorf("%w: %s: %s: %w", ErrInvalid, position(path, kv.Value), key, err)
			}
		}
	default:
		if _, isMap := pairsOf(p.Value); isMap {
			return fmt.Errorf("%w: %s: %s: want a single value, got a mapping", ErrInvalid, at, key)
		}
		if err := s.val.set(scalar(p.Value)); err != nil {
			return fmt.Errorf("%w: %s: %s: %w", ErrInvalid, at, key, err)
		}
	}
	c.origins[key] = at
	return nil
}

// pairsOf returns a mapping's pairs (one pair is a MappingValueNode).
func pairsOf(node ast.Node) ([]*ast.MappingValueNode, bool) {
	switch n := node.(type) {
	case *ast.MappingNode:
		return n.Values, true
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{n}, true
	}
	return nil, false
}

// scalar is a scalar node's text (a quoted string without its quotes).
func scalar(node ast.Node) string {
	switch n := node.(type) {
	case *ast.StringNode:
		return n.Value
	case *ast.NullNode:
		return ""
	}
	if tk := node.GetToken(); tk != nil {
		return tk.Value
	}
	return node.String()
}

// position is "file:line:column" of a node.
func position(path string, node ast.Node) string {
	if node == nil || node.GetToken() == nil || node.GetToken().Position == nil {
		return path
	}
	p := node.GetToken().Position
	return fmt.Sprintf("%s:%d:%d", path, p.Line, p.Column)
}

func nameOr(prefix string) string {
	if prefix == "" {
		return "top level"
	}
	return prefix
}

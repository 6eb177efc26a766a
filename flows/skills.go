package flows

import (
	"fmt"
	"reflect"

	"github.com/expr-lang/expr/ast"
)

// checkQueueSkills reports a queue node's skills expression that can only
// give something other than a list of strings (or one string): a number, a
// boolean, a map, or a list literal with such an item. What depends on
// variables is checked when the call joins the queue.
func (v *validator) checkQueueSkills(n *Node) {
	if n.Skills == nil {
		return
	}
	prog, err := n.Skills.program()
	if err != nil {
		return // reported as a compile error
	}
	if what := notStrings(prog.Node()); what != "" {
		v.d.errPath(v.nodePath(n.ID, "skills"), "skills must give a list of strings, like '[\"english\", \"billing:5\"]'; this gives %s", what)
	}
}

// notStrings names what a node gives when that cannot be strings.
func notStrings(node ast.Node) string {
	if c, ok := node.(*ast.ConstantNode); ok {
		return notStringValues(c.Value)
	}
	if arr, ok := node.(*ast.ArrayNode); ok {
		for i, item := range arr.Nodes {
			if what := notString(item.Type()); what != "" {
				return fmt.Sprintf("%s as item %d", what, i+1)
			}
		}
		return ""
	}
	t := node.Type()
	if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
		if what := notString(t.Elem()); what != "" {
			return "a list of " + what
		}
		return ""
	}
	return notString(t)
}

// notString names a type that is surely not a string ("" when it is one,
// or may be one).
func notString(t reflect.Type) string {
	if t == nil {
		return ""
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "a boolean"
	case reflect.Map, reflect.Struct:
		return "a map"
	}
	return ""
}

// notStringValues names what a constant gives when that is not strings.
func notStringValues(v any) string {
	if items, ok := v.([]any); ok {
		for i, item := range items {
			if _, ok := item.(string); !ok {
				return fmt.Sprintf("%s as item %d", notString(reflect.TypeOf(item)), i+1)
			}
		}
		return ""
	}
	return notString(reflect.TypeOf(v))
}

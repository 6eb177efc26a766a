package flows

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
	"github.com/voxflow/voxflow/internal/suggest"
)

// decoder turns YAML source into a Flow and collects diagnostics with the
// positions of the offending YAML.
type decoder struct {
	file  string
	lines []string
	root  ast.Node
	diags Diagnostics
	// broken marks nodes that did not decode; their details are not
	// validated further, so one mistake does not cascade.
	broken map[string]bool
}

func newDecoder(filename string, src []byte) *decoder {
	text := strings.ReplaceAll(string(src), "\r\n", "\n")
	return &decoder{file: filename, lines: strings.Split(text, "\n"), broken: map[string]bool{}}
}

// Decode reads a flow file: YAML syntax, structure, unknown fields and
// fields that do not belong to a node's type. It fills Node.ID from the map
// keys. It applies no defaults and does not compile expressions; Parse does.
// The flow is nil only when the YAML could not be read at all.
func Decode(filename string, src []byte) (*Flow, Diagnostics) {
	d := newDecoder(filename, src)
	f := d.decode(src)
	return f, d.finish()
}

func (d *decoder) finish() Diagnostics {
	sortDiagnostics(d.diags)
	// Drop exact duplicates (the same problem found twice).
	out := d.diags[:0]
	for i, x := range d.diags {
		if i > 0 && x == d.diags[i-1] {
			continue
		}
		out = append(out, x)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func (d *decoder) add(sev Severity, line, col int, path string, format string, args ...any) {
	if line < 1 {
		line, col = 1, 1
	}
	if col < 1 {
		col = 1
	}
	d.diags = append(d.diags, Diagnostic{
		File: d.file, Line: line, Column: col, Severity: sev,
		Message: fmt.Sprintf(format, args...), Path: path,
		Snippet: snippet(d.lines, line, col),
	})
}

// nodePos returns the 1-based position of an AST node.
func nodePos(n ast.Node) (int, int) {
	if n == nil {
		return 0, 0
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return 0, 0
	}
	return tk.Position.Line, tk.Position.Column
}

// errNodeAt reports an error at an AST node.
func (d *decoder) errNodeAt(n ast.Node, path string, format string, args ...any) {
	l, c := nodePos(n)
	d.add(SeverityError, l, c, path, format, args...)
}

// pathString renders path segments as $.a.b[0].c.
func pathString(segs []string) string {
	var b strings.Builder
	b.WriteString("$")
	for _, s := range segs {
		if strings.HasPrefix(s, "[") {
			b.WriteString(s)
		} else {
			b.WriteByte('.')
			b.WriteString(s)
		}
	}
	return b.String()
}

// splitField splits a field path like "options.1.next" or "when[0].next"
// into segments.
func splitField(field string) []string {
	var out []string
	for _, part := range strings.Split(field, ".") {
		for {
			i := strings.IndexByte(part, '[')
			if i < 0 {
				break
			}
			if i > 0 {
				out = append(out, part[:i])
			}
			j := strings.IndexByte(part[i:], ']')
			if j < 0 {
				break
			}
			out = append(out, part[i:i+j+1])
			part = part[i+j+1:]
		}
		if part != "" {
			out = append(out, part)
		}
	}
	return out
}

// lookup walks the AST along segs and returns the node to point at: the
// value when the whole path exists (the key instead when wantKey or when the
// value is a mapping or list); else the deepest scalar value found, or the
// key of the deepest entry found, or the first key of the document.
func (d *decoder) lookup(segs []string, wantKey bool) ast.Node {
	cur := d.root
	var lastKey ast.Node
	if pairs, ok := mappingValues(d.root); ok && len(pairs) > 0 {
		lastKey = pairs[0].Key
	}
	all := true
	for _, s := range segs {
		cur = unwrap(cur)
		found := false
		if strings.HasPrefix(s, "[") {
			idx, err := strconv.Atoi(strings.Trim(s, "[]"))
			if seq, ok := cur.(*ast.SequenceNode); ok && err == nil && idx >= 0 && idx < len(seq.Values) {
				cur, found = seq.Values[idx], true
				lastKey = cur
			}
		} else if pairs, ok := mappingValues(cur); ok {
			for _, p := range pairs {
				if keyText(p.Key) == s {
					cur, found = p.Value, true
					lastKey = p.Key
					break
				}
			}
		}
		if !found {
			all = false
			break
		}
	}
	isScalar := func(n ast.Node) bool {
		if _, ok := mappingValues(n); ok {
			return false
		}
		if _, ok := unwrap(n).(*ast.SequenceNode); ok {
			return false
		}
		return n != nil
	}
	if len(segs) > 0 && isScalar(cur) && (!all || !wantKey) && cur != d.root {
		return cur
	}
	return lastKey
}

// errPath reports an error at the YAML path segs (at the value, or at the
// key when wantKey or when the value is a mapping or list).
func (d *decoder) report(sev Severity, segs []string, wantKey bool, format string, args ...any) {
	var l, c int
	if d.root != nil {
		l, c = nodePos(d.lookup(segs, wantKey))
	}
	d.add(sev, l, c, pathString(segs), format, args...)
}

func (d *decoder) errPath(segs []string, format string, args ...any) {
	d.report(SeverityError, segs, false, format, args...)
}

func (d *decoder) errKey(segs []string, format string, args ...any) {
	d.report(SeverityError, segs, true, format, args...)
}

// decodeErr reports an error from goccy or from our unmarshalers.
func (d *decoder) decodeErr(err error, fallback ast.Node, path []string) {
	var pe *posError
	if errors.As(err, &pe) && pe.Line > 0 {
		d.add(SeverityError, pe.Line, pe.Col, pathString(path), "%s", pe.Message)
		return
	}
	var te *yaml.TypeError
	if errors.As(err, &te) && te.Token != nil && te.Token.Position != nil {
		d.add(SeverityError, te.Token.Position.Line, te.Token.Position.Column, pathString(path), "%s", typeErrorMessage(te))
		return
	}
	var ye yaml.Error
	if errors.As(err, &ye) {
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			d.add(SeverityError, tk.Position.Line, tk.Position.Column, pathString(path), "%s", ye.GetMessage())
			return
		}
		d.errNodeAt(fallback, pathString(path), "%s", ye.GetMessage())
		return
	}
	msg := err.Error()
	if pe != nil {
		msg = pe.Message
	}
	d.errNodeAt(fallback, pathString(path), "%s", msg)
}

// decode parses the source; see Decode.
func (d *decoder) decode(src []byte) *Flow {
	file, err := parser.ParseBytes(src, 0, parser.AllowDuplicateMapKey())
	if err != nil {
		var ye yaml.Error
		if errors.As(err, &ye) && ye.GetToken() != nil && ye.GetToken().Position != nil {
			p := ye.GetToken().Position
			d.add(SeverityError, p.Line, p.Column, "$", "YAML syntax error: %s", ye.GetMessage())
		} else {
			d.add(SeverityError, 1, 1, "$", "YAML syntax error: %s", err.Error())
		}
		return nil
	}
	var docs []ast.Node
	for _, doc := range file.Docs {
		if doc != nil && doc.Body != nil {
			docs = append(docs, doc.Body)
		}
	}
	if len(docs) == 0 {
		d.add(SeverityError, 1, 1, "$", "empty flow file: expected a mapping with name, entry and nodes")
		return nil
	}
	if len(docs) > 1 {
		d.errNodeAt(docs[1], "$", "a flow file holds one YAML document; found %d", len(docs))
	}
	d.root = docs[0]
	pairs, ok := mappingValues(d.root)
	if !ok {
		d.errNodeAt(d.root, "$", "a flow file must be a mapping with name, entry and nodes, got a %s", kindName(d.root))
		return nil
	}
	d.checkDuplicates(d.root, nil)

	f := &Flow{}
	seen := map[string]bool{}
	for _, p := range pairs {
		key := keyText(p.Key)
		if seen[key] {
			continue
		}
		seen[key] = true
		path := []string{key}
		target := topField(f, key)
		switch key {
		case "settings":
			if !d.checkKeys(p.Value, path, settingsFields, "settings") {
				target = nil
			}
		case "variables":
			d.decodeVariables(f, p.Value)
			continue
		case "nodes":
			f.Nodes = d.decodeNodes(p.Value)
			continue
		case "<<":
			d.errNodeAt(p.Key, "$", "merge keys are not supported at the top of a flow")
			continue
		default:
			if target == nil {
				d.errNodeAt(p.Key, pathString(path), "unknown field %s on the flow; valid fields are: %s", key, specNames(flowFields))
				continue
			}
		}
		if target == nil {
			continue
		}
		if err := yaml.NodeToValue(p.Value, target); err != nil {
			d.decodeErr(err, p.Value, path)
		}
	}
	return f
}

// topField is where a top-level field of a flow decodes to; nil for the
// fields decoded their own way and for unknown ones.
func topField(f *Flow, key string) any {
	switch key {
	case "name":
		return &f.Name
	case "description":
		return &f.Description
	case "entry":
		return &f.Entry
	case "on_hangup":
		return &f.OnHangup
	case "sensitive":
		return &f.Sensitive
	case "settings":
		return &f.Settings
	case "metadata":
		return &f.Metadata
	}
	return nil
}

func specNames(fs []fieldSpec) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}

// checkKeys reports keys of a mapping that are not in fields. It returns
// false when the value is not a mapping at all.
func (d *decoder) checkKeys(value ast.Node, path []string, fields []fieldSpec, what string) bool {
	if _, ok := unwrap(value).(*ast.NullNode); ok {
		return true
	}
	pairs, ok := mappingValues(value)
	if !ok {
		d.errNodeAt(value, pathString(path), "%s must be a mapping, got a %s", what, kindName(value))
		return false
	}
	for _, p := range pairs {
		k := keyText(p.Key)
		if k == "<<" {
			continue
		}
		known := false
		for _, f := range fields {
			if f.Name == k {
				known = true
				break
			}
		}
		if !known {
			d.errNodeAt(p.Key, pathString(append(path, k)), "unknown field %s in %s; valid fields are: %s", k, what, specNames(fields))
		}
	}
	return true
}

// checkDuplicates reports every key written twice in the same mapping,
// with the position of both.
func (d *decoder) checkDuplicates(node ast.Node, path []string) {
	switch n := unwrap(node).(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		pairs, _ := mappingValues(n)
		first := map[string]ast.Node{}
		for _, p := range pairs {
			k := keyText(p.Key)
			sub := append(append([]string(nil), path...), k)
			if prev, dup := first[k]; dup && k != "<<" {
				l, c := nodePos(prev)
				what := "key " + strconv.Quote(k)
				if len(path) == 1 && path[0] == "nodes" {
					what = "node ID " + strconv.Quote(k)
				}
				d.errNodeAt(p.Key, pathString(sub), "duplicate %s: also defined at line %d, column %d", what, l, c)
				continue
			}
			first[k] = p.Key
			d.checkDuplicates(p.Value, sub)
		}
	case *ast.SequenceNode:
		for i, v := range n.Values {
			d.checkDuplicates(v, append(append([]string(nil), path...), "["+itoa(i)+"]"))
		}
	}
}

func (d *decoder) decodeVariables(f *Flow, value ast.Node) {
	var vars map[string]any
	if err := yaml.NodeToValue(value, &vars); err != nil {
		d.decodeErr(err, value, []string{"variables"})
		return
	}
	for k, v := range vars {
		vars[k] = normalize(v)
	}
	f.Variables = vars
}

// normalize turns decoded YAML values into the types expressions and JSON
// use: int for integers that fit, map[string]any for mappings.
func normalize(v any) any {
	switch x := v.(type) {
	case uint64:
		if x <= math.MaxInt64 {
			return int(x)
		}
		return float64(x)
	case int64:
		return int(x)
	case []any:
		for i := range x {
			x[i] = normalize(x[i])
		}
		return x
	case map[string]any:
		for k := range x {
			x[k] = normalize(x[k])
		}
		return x
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = normalize(e)
		}
		return out
	}
	return v
}

func (d *decoder) decodeNodes(value ast.Node) map[string]*Node {
	nodes := map[string]*Node{}
	if _, ok := unwrap(value).(*ast.NullNode); ok {
		return nodes
	}
	pairs, ok := mappingValues(value)
	if !ok {
		d.errNodeAt(value, "$.nodes", "nodes must be a mapping of node ID to node, got a %s", kindName(value))
		return nodes
	}
	for _, p := range pairs {
		id := keyText(p.Key)
		if _, dup := nodes[id]; dup {
			continue
		}
		nodes[id] = d.decodeNode(id, p)
	}
	return nodes
}

// decodeNode decodes one entry of nodes. A node that cannot be decoded is
// marked broken; fields its type does not have are reported and dropped.
func (d *decoder) decodeNode(id string, p *ast.MappingValueNode) *Node {
	path := []string{"nodes", id}
	n := &Node{ID: id}
	pairs, ok := mappingValues(p.Value)
	if !ok {
		d.errNodeAt(p.Key, pathString(path), "node %s must be a mapping with a type, got a %s", id, kindName(p.Value))
		d.broken[id] = true
		return n
	}
	typ, hasType, ts := d.nodeType(id, p.Key, pairs)
	n.Type = typ
	disallowed := d.checkNodeFields(id, pairs, ts)
	if err := yaml.NodeToValue(p.Value, n); err != nil {
		d.decodeErr(err, p.Key, path)
		d.broken[id] = true
	}
	fillEmptyEntries(n)
	// Forget fields the type does not have, so they do not cause more
	// errors (a play node's options are no edges).
	for _, k := range disallowed {
		f := reflect.ValueOf(n).Elem().Field(nodeFieldIndex[k])
		f.Set(reflect.Zero(f.Type()))
	}
	n.ID = id
	if ts == nil && hasType {
		n.Type = typ
	}
	return n
}

// nodeType finds a node's type field (hasType) and its spec. It reports a
// missing or unknown type (and marks the node broken); the spec is then nil.
func (d *decoder) nodeType(id string, key ast.Node, pairs []*ast.MappingValueNode) (typ NodeType, hasType bool, ts *typeSpec) {
	var typeNode ast.Node
	for _, kv := range pairs {
		if keyText(kv.Key) == "type" {
			typeNode = kv.Value
			break
		}
	}
	path := []string{"nodes", id}
	if typeNode == nil {
		d.errNodeAt(key, pathString(path), "node %s has no type; valid types are: %s", id, strings.Join(typeNames(), ", "))
		d.broken[id] = true
		return "", false, nil
	}
	t, _, _ := scalarText(typeNode)
	ts = typeByName[NodeType(t)]
	if ts == nil {
		d.errNodeAt(typeNode, pathString(append(path, "type")), "unknown node type %q on node %s; valid types are: %s", t, id, strings.Join(typeNames(), ", "))
		d.broken[id] = true
	}
	return NodeType(t), true, ts
}

// checkNodeFields reports unknown fields, and fields the type (when known)
// does not have, which it returns; it checks the keys inside options, when
// and split.
func (d *decoder) checkNodeFields(id string, pairs []*ast.MappingValueNode, ts *typeSpec) (disallowed []string) {
	for _, kv := range pairs {
		k := keyText(kv.Key)
		if k == "<<" {
			continue
		}
		fpath := []string{"nodes", id, k}
		fs := fieldByName[k]
		if fs == nil {
			d.errNodeAt(kv.Key, pathString(fpath), "unknown field %s on node %s%s", k, id, suggestField(k, ts))
			continue
		}
		if ts != nil && !allowed[ts.Type][k] {
			d.errNodeAt(kv.Key, pathString(fpath), "field %s is not allowed on a %s node", k, ts.Type)
			disallowed = append(disallowed, k)
			continue
		}
		d.checkNested(fs, kv.Value, fpath)
	}
	return disallowed
}

// fillEmptyEntries turns empty entries (`"1":` or `- ` with no value),
// which decode as nil, into empty values so the validator reports what
// they lack.
func fillEmptyEntries(n *Node) {
	for k, o := range n.Options {
		if o == nil {
			n.Options[k] = &MenuOption{}
		}
	}
	for i, w := range n.When {
		if w == nil {
			n.When[i] = &WhenClause{}
		}
	}
	for i, sp := range n.Split {
		if sp == nil {
			n.Split[i] = &SplitBranch{}
		}
	}
	for i, a := range n.Assign {
		if a.Expr == nil {
			n.Assign[i].Expr = &Expr{}
		}
	}
	for k, in := range n.Intents {
		if in == nil {
			n.Intents[k] = &Intent{}
			continue
		}
		for sk, sl := range in.Slots {
			if sl == nil {
				in.Slots[sk] = &Slot{}
			}
		}
	}
	for k, t := range n.Tools {
		if t == nil {
			n.Tools[k] = &Tool{}
		}
	}
}

// Fields of the small mappings inside nodes.
var (
	optionFields = []fieldSpec{{Name: "next", Kind: kindNodeRef, Doc: "Node taken when this option is chosen."}, {Name: "phrases", Kind: kindStrings, Doc: "Spoken phrases that choose this option."}}
	whenFields   = []fieldSpec{{Name: "if", Kind: kindBoolExpr, Doc: "Condition (expression)."}, {Name: "next", Kind: kindNodeRef, Doc: "Node taken when the condition is true."}}
	splitFields  = []fieldSpec{{Name: "percent", Kind: kindPercent, Doc: "Share of calls, 0 to 100."}, {Name: "next", Kind: kindNodeRef, Doc: "Node taken by this share."}}
)

// checkNested reports unknown keys inside options, when and split.
func (d *decoder) checkNested(fs *fieldSpec, value ast.Node, path []string) {
	switch fs.Kind {
	case kindOptions:
		pairs, ok := mappingValues(value)
		if !ok {
			return
		}
		for _, p := range pairs {
			k := keyText(p.Key)
			if _, isMap := mappingValues(p.Value); isMap {
				d.checkKeys(p.Value, append(append([]string(nil), path...), k), optionFields, "menu option "+k)
			}
		}
	case kindIntents, kindTools:
		if pairs, ok := mappingValues(value); ok {
			d.checkNestedAI(fs, pairs, path)
		}
	case kindWhen, kindSplit:
		seq, ok := unwrap(value).(*ast.SequenceNode)
		if !ok {
			return
		}
		fields, what := whenFields, "when clause"
		if fs.Kind == kindSplit {
			fields, what = splitFields, "split share"
		}
		for i, v := range seq.Values {
			d.checkKeys(v, append(append([]string(nil), path...), "["+itoa(i)+"]"), fields, what)
		}
	}
}

// typeErrorMessage explains a value of the wrong type in flow terms.
func typeErrorMessage(te *yaml.TypeError) string {
	want := "a value of another type"
	if te.DstType != nil {
		switch te.DstType.Kind() {
		case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint, reflect.Uint64:
			want = "an integer"
		case reflect.Bool:
			want = "true or false"
		case reflect.String:
			want = "a string"
		case reflect.Slice, reflect.Array:
			want = "a list"
		case reflect.Map, reflect.Struct:
			want = "a mapping"
		case reflect.Pointer:
			switch te.DstType.Elem().Kind() {
			case reflect.Int:
				want = "an integer"
			case reflect.Bool:
				want = "true or false"
			case reflect.Struct, reflect.Map:
				want = "a mapping"
			}
		}
	}
	field := ""
	if p := te.Token.Prev; p != nil && p.Type == token.MappingValueType && p.Prev != nil {
		field = p.Prev.Value + " "
	}
	return fmt.Sprintf("invalid value %q: %smust be %s", te.Token.Value, field, want)
}

// suggestField proposes a known field close to an unknown one.
func suggestField(k string, ts *typeSpec) string {
	best, bestD := "", 3
	for _, f := range nodeFields {
		if ts != nil && !allowed[ts.Type][f.Name] {
			continue
		}
		if dist := suggest.Distance(k, f.Name); dist < bestD {
			best, bestD = f.Name, dist
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

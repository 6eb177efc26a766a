package flows

import (
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // hours nodes load time zones the same on every machine

	"github.com/expr-lang/expr/ast"
	exprparser "github.com/expr-lang/expr/parser"
	"github.com/voxflow/voxflow/internal/suggest"
)

// Parse decodes a flow file, applies defaults, validates it and compiles
// every expression and template. It is deterministic and does no I/O (time
// zones come from the embedded database when the system has none), so the
// engine may call it inside a workflow. The flow is returned even when it
// has errors (nil only when the YAML could not be read); check
// Diagnostics.Err before running it.
func Parse(filename string, src []byte) (*Flow, Diagnostics) {
	d := newDecoder(filename, src)
	f := d.decode(src)
	if f == nil {
		return nil, d.finish()
	}
	ApplyDefaults(f)
	v := &validator{d: d, f: f}
	v.validate()
	return f, d.finish()
}

// ApplyDefaults fills the settings and the node fields a flow left out:
// settings from the Default* constants, retries, barge_in, beep, the http
// method and the transfer mode (each only on node types that have the field).
func ApplyDefaults(f *Flow) {
	s := &f.Settings
	if s.Language == "" {
		s.Language = DefaultLanguage
	}
	if s.Voice == "" {
		s.Voice = DefaultVoice
	}
	if s.InputTimeout == 0 {
		s.InputTimeout = Duration(DefaultInputTimeout)
	}
	if s.InterDigitTimeout == 0 {
		s.InterDigitTimeout = Duration(DefaultInterDigitTimeout)
	}
	if s.MaxSteps == 0 {
		s.MaxSteps = DefaultMaxSteps
	}
	for _, n := range f.Nodes {
		if n == nil {
			continue
		}
		a := allowed[n.Type]
		applyAIDefaults(n, a)
		if a["retries"] && n.Retries == nil {
			r := DefaultRetries
			n.Retries = &r
		}
		if a["barge_in"] && n.BargeIn == nil {
			t := true
			n.BargeIn = &t
		}
		if a["beep"] && n.Beep == nil {
			t := true
			n.Beep = &t
		}
		if a["method"] && n.Method == "" {
			n.Method = "GET"
		}
		if a["mode"] && n.Mode == "" {
			n.Mode = "blind"
		}
	}
}

type validator struct {
	d *decoder
	f *Flow
	// defined variables: declared under variables or assigned by a node.
	defined map[string]bool
}

var (
	varName   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	clockTime = regexp.MustCompile(`^([01][0-9]|2[0-4]):([0-5][0-9])$`)
)

// nodeFieldIndex maps a node field's YAML name to its struct field index.
var nodeFieldIndex = func() map[string]int {
	m := map[string]int{}
	t := reflect.TypeOf(Node{})
	for i := 0; i < t.NumField(); i++ {
		name := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		if name != "" && name != "-" {
			m[name] = i
		}
	}
	return m
}()

// isSet reports whether the node's field (by YAML name) has a value.
func isSet(n *Node, name string) bool {
	i, ok := nodeFieldIndex[name]
	if !ok {
		return false
	}
	return !reflect.ValueOf(n).Elem().Field(i).IsZero()
}

func (v *validator) nodePath(id string, field ...string) []string {
	out := []string{"nodes", id}
	for _, f := range field {
		out = append(out, splitField(f)...)
	}
	return out
}

func (v *validator) validate() {
	f, d := v.f, v.d
	if f.Name == "" {
		d.errKey([]string{"name"}, "missing required field name on the flow")
	}
	if f.Entry == "" {
		d.errKey([]string{"entry"}, "missing required field entry on the flow (the ID of the first node)")
	} else if _, ok := f.Nodes[f.Entry]; !ok {
		d.errPath([]string{"entry"}, "entry refers to unknown node %q%s", f.Entry, v.suggest(f.Entry))
	}
	if f.OnHangup != "" {
		if _, ok := f.Nodes[f.OnHangup]; !ok {
			d.errPath([]string{"on_hangup"}, "on_hangup refers to unknown node %q%s", f.OnHangup, v.suggest(f.OnHangup))
		}
	}
	if len(f.Nodes) == 0 {
		d.errKey([]string{"nodes"}, "missing required field nodes on the flow (at least one node)")
	}
	v.checkSensitive()
	if f.Settings.MaxSteps < 0 {
		d.errPath([]string{"settings", "max_steps"}, "max_steps must not be negative")
	}
	for _, k := range slices.Sorted(maps.Keys(f.Variables)) {
		if !varName.MatchString(k) {
			d.errKey([]string{"variables", k}, "invalid variable name %q: use letters, digits and _, not starting with a digit", k)
		}
	}

	v.defined = map[string]bool{}
	for k := range f.Variables {
		v.defined[k] = true
	}
	ids := slices.Sorted(maps.Keys(f.Nodes))
	for _, id := range ids {
		v.collectDefined(f.Nodes[id])
	}
	for _, id := range ids {
		n := f.Nodes[id]
		if n == nil {
			continue
		}
		if !v.d.broken[id] {
			v.checkNode(n)
			v.compileNode(n)
		}
		for _, e := range n.Exits() {
			if _, ok := f.Nodes[e.Target]; !ok {
				d.errPath(v.nodePath(id, e.Field), "node %s: %s refers to unknown node %q%s", id, e.Label, e.Target, v.suggest(e.Target))
			}
		}
	}
	v.checkReachable(ids)
	v.checkLoops(ids)
}

// suggest proposes a node ID close to a missing one.
func (v *validator) suggest(target string) string {
	best, bestD := "", 3
	for _, id := range slices.Sorted(maps.Keys(v.f.Nodes)) {
		if dist := suggest.Distance(strings.ToLower(id), strings.ToLower(target)); dist < bestD {
			best, bestD = id, dist
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// collectDefined records the variables a node assigns.
func (v *validator) collectDefined(n *Node) {
	if n == nil {
		return
	}
	if n.Var != "" {
		v.defined[n.Var] = true
	}
	for _, list := range []Assignments{n.Assign, n.Response, n.Output} {
		for _, a := range list {
			v.defined[a.Var] = true
		}
	}
	for _, name := range aiDefined(n) {
		v.defined[name] = true
	}
}

// checkNode validates one node's fields against its type.
func (v *validator) checkNode(n *Node) {
	ts := typeByName[n.Type]
	if ts == nil {
		return
	}
	v.checkRequired(n, ts)
	v.checkVarNames(n)
	v.checkInputLimits(n)
	switch n.Type {
	case TypeMenu:
		v.checkMenuOptions(n)
	case TypeBranch:
		v.checkWhenClauses(n)
	case TypeHTTP:
		if !contains(httpMethods, n.Method) {
			v.d.errPath(v.nodePath(n.ID, "method"), "invalid http method %q; valid methods are: %s", n.Method, strings.Join(httpMethods, ", "))
		}
	case TypeTransfer:
		v.checkTransfer(n)
	case TypeDistribute:
		v.checkSplit(n)
	case TypeHours:
		v.checkHours(n)
	case TypeQueue:
		v.checkQueueSkills(n)
	case TypeIntent:
		v.checkIntents(n)
	case TypeLLM:
		v.checkTools(n)
	}
}

// checkRequired reports required fields left out and AnyOf groups with no
// field set.
func (v *validator) checkRequired(n *Node, ts *typeSpec) {
	d, id := v.d, n.ID
	for _, r := range ts.Required {
		if !isSet(n, r) {
			d.errKey(v.nodePath(id), "missing required field %s on %s node %s", r, n.Type, id)
		}
	}
	for _, group := range ts.AnyOf {
		ok := false
		for _, f := range group {
			ok = ok || isSet(n, f)
		}
		if !ok {
			d.errKey(v.nodePath(id), "%s node %s needs %s", n.Type, id, strings.Join(group, " or "))
		}
	}
}

// checkVarNames reports variable names a node assigns that are not names.
func (v *validator) checkVarNames(n *Node) {
	d, id := v.d, n.ID
	if n.Var != "" && !varName.MatchString(n.Var) {
		d.errPath(v.nodePath(id, "var"), "invalid variable name %q: use letters, digits and _, not starting with a digit", n.Var)
	}
	lists := []struct {
		field string
		list  Assignments
	}{{"assign", n.Assign}, {"response", n.Response}, {"output", n.Output}}
	for _, l := range lists {
		for _, a := range l.list {
			if !varName.MatchString(a.Var) {
				d.errKey(v.nodePath(id, l.field, a.Var), "invalid variable name %q: use letters, digits and _, not starting with a digit", a.Var)
			}
		}
	}
}

// checkInputLimits reports negative counts, a digit range the wrong way
// round and a terminator that is not a key.
func (v *validator) checkInputLimits(n *Node) {
	d, id := v.d, n.ID
	nonNeg := func(field string, x int) {
		if x < 0 {
			d.errPath(v.nodePath(id, field), "%s must not be negative", field)
		}
	}
	if n.Retries != nil {
		nonNeg("retries", *n.Retries)
	}
	nonNeg("min_digits", n.MinDigits)
	nonNeg("max_digits", n.MaxDigits)
	nonNeg("max_attempts", n.MaxAttempts)
	if n.MaxDigits > 0 && n.MinDigits > n.MaxDigits {
		d.errPath(v.nodePath(id, "min_digits"), "min_digits (%d) is more than max_digits (%d)", n.MinDigits, n.MaxDigits)
	}
	if n.Terminator != "" && (len(n.Terminator) != 1 || !strings.Contains(dtmfKeys, n.Terminator)) {
		d.errPath(v.nodePath(id, "terminator"), "invalid terminator %q: must be one key of 0-9, * or #", n.Terminator)
	}
}

// checkMenuOptions reports option keys that are not one DTMF key and
// options without a next node.
func (v *validator) checkMenuOptions(n *Node) {
	d, id := v.d, n.ID
	for _, k := range slices.Sorted(maps.Keys(n.Options)) {
		if len(k) != 1 || !strings.Contains(dtmfKeys, k) {
			d.errKey(v.nodePath(id, "options", k), "invalid menu option key %q: must be one key of 0-9, * or # (quote * and #)", k)
		}
		if o := n.Options[k]; o == nil || o.Next == "" {
			d.errPath(v.nodePath(id, "options", k), "menu option %s of node %s has no next node", k, id)
		}
	}
}

// checkWhenClauses reports branch clauses without a condition or a next node.
func (v *validator) checkWhenClauses(n *Node) {
	d, id := v.d, n.ID
	for i, w := range n.When {
		if w == nil || w.If == nil || strings.TrimSpace(w.If.Source) == "" {
			d.errPath(v.nodePath(id, "when["+itoa(i)+"]"), "when clause %d of node %s has no if condition", i, id)
		}
		if w == nil || w.Next == "" {
			d.errPath(v.nodePath(id, "when["+itoa(i)+"]"), "when clause %d of node %s has no next node", i, id)
		}
	}
}

// checkTransfer reports an unknown mode and bridge-only fields on a blind
// transfer.
func (v *validator) checkTransfer(n *Node) {
	d, id := v.d, n.ID
	if !contains(transferModes, n.Mode) {
		d.errPath(v.nodePath(id, "mode"), "invalid transfer mode %q; valid modes are: blind, bridge", n.Mode)
	}
	if n.Mode != "blind" {
		return
	}
	// A blind transfer leaves the flow: nothing comes back to record, to
	// store or to take when nobody answers.
	for _, f := range []struct {
		name string
		set  bool
	}{{"record", n.Record}, {"var", n.Var != ""}, {"on_timeout", n.OnTimeout != ""}} {
		if f.set {
			d.errPath(v.nodePath(id, f.name), "%s needs mode: bridge (a blind transfer hands the call over)", f.name)
		}
	}
}

// checkSplit reports shares out of 0..100, shares without a next node and
// percents that do not sum to 100.
func (v *validator) checkSplit(n *Node) {
	d, id := v.d, n.ID
	sum := 0
	for i, s := range n.Split {
		if s == nil {
			continue
		}
		if s.Percent < 0 || s.Percent > 100 {
			d.errPath(v.nodePath(id, "split["+itoa(i)+"].percent"), "percent must be between 0 and 100, got %d", s.Percent)
		}
		if s.Next == "" {
			d.errPath(v.nodePath(id, "split["+itoa(i)+"]"), "split share %d of node %s has no next node", i, id)
		}
		sum += s.Percent
	}
	if len(n.Split) > 0 && sum != 100 {
		d.errPath(v.nodePath(id, "split"), "split percents of node %s sum to %d, must sum to 100", id, sum)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (v *validator) checkHours(n *Node) {
	d, id := v.d, n.ID
	if n.Timezone != "" {
		if _, err := time.LoadLocation(n.Timezone); err != nil {
			d.errPath(v.nodePath(id, "timezone"), "unknown time zone %q: use an IANA name like Europe/Paris or America/New_York", n.Timezone)
		}
	}
	for _, day := range slices.Sorted(maps.Keys(n.Schedule)) {
		if _, err := ParseDays(day); err != nil {
			d.errKey(v.nodePath(id, "schedule", day), "invalid days %q in schedule: %v; write a day (%s), a range (mon-fri), a list (sat,sun) or daily", day, err, strings.Join(weekDays, ", "))
		}
		for i, r := range n.Schedule[day] {
			if err := checkRange(r); err != nil {
				d.errPath(v.nodePath(id, "schedule", day, "["+itoa(i)+"]"), "invalid opening hours %q: %v", r, err)
			}
		}
	}
	for i, h := range n.Holidays {
		if _, err := time.Parse("2006-01-02", h); err != nil {
			d.errPath(v.nodePath(id, "holidays["+itoa(i)+"]"), "invalid holiday %q: write dates as YYYY-MM-DD", h)
		}
	}
}

// checkRange validates "HH:MM-HH:MM" with start before end.
func checkRange(r string) error {
	from, to, ok := strings.Cut(r, "-")
	if !ok {
		return fmt.Errorf("write a range like 09:00-17:30")
	}
	a, err := minutes(strings.TrimSpace(from))
	if err != nil {
		return err
	}
	b, err := minutes(strings.TrimSpace(to))
	if err != nil {
		return err
	}
	if a >= b {
		return fmt.Errorf("the start must be before the end")
	}
	return nil
}

// ParseRange parses an opening-hours range "HH:MM-HH:MM" into minutes after
// midnight.
func ParseRange(r string) (from, to int, err error) {
	if err := checkRange(r); err != nil {
		return 0, 0, fmt.Errorf("opening hours %q: %w", r, err)
	}
	a, b, _ := strings.Cut(r, "-")
	from, _ = minutes(strings.TrimSpace(a))
	to, _ = minutes(strings.TrimSpace(b))
	return from, to, nil
}

func minutes(s string) (int, error) {
	m := clockTime.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a time like 09:00", s)
	}
	h, _ := strconv.Atoi(m[1])
	mm, _ := strconv.Atoi(m[2])
	if h == 24 && mm != 0 {
		return 0, fmt.Errorf("%q is past 24:00", s)
	}
	return h*60 + mm, nil
}

// scope names which optional Env fields an expression may read.
type scope int

const (
	scopeNode     scope = iota
	scopeResponse       // http response mapping: response
	scopeResult         // subflow output mapping: result
)

// compileNode compiles every expression and template of a node.
func (v *validator) compileNode(n *Node) {
	id := n.ID
	for _, fs := range nodeFields {
		if !allowed[n.Type][fs.Name] {
			continue
		}
		switch fs.Kind {
		case kindTemplate:
			t := reflect.ValueOf(n).Elem().Field(nodeFieldIndex[fs.Name]).Addr().Interface().(*Template)
			v.compileTemplate(t, v.nodePath(id, fs.Name))
		case kindExpr, kindBoolExpr:
			e := reflect.ValueOf(n).Elem().Field(nodeFieldIndex[fs.Name]).Interface().(*Expr)
			if e != nil {
				e.asBool = fs.Kind == kindBoolExpr
				v.compileExpr(e, v.nodePath(id, fs.Name), scopeNode)
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(n.Headers)) {
		t := n.Headers[k]
		v.compileTemplate(&t, v.nodePath(id, "headers", k))
		n.Headers[k] = t
	}
	for i, w := range n.When {
		if w != nil && w.If != nil && strings.TrimSpace(w.If.Source) != "" {
			w.If.asBool = true
			v.compileExpr(w.If, v.nodePath(id, "when["+itoa(i)+"].if"), scopeNode)
		}
	}
	lists := []struct {
		field string
		list  Assignments
		scope scope
	}{{"assign", n.Assign, scopeNode}, {"input", n.Input, scopeNode}, {"response", n.Response, scopeResponse}, {"output", n.Output, scopeResult}}
	for _, l := range lists {
		for _, a := range l.list {
			if a.Expr == nil {
				continue
			}
			v.compileExpr(a.Expr, v.nodePath(id, l.field, a.Var), l.scope)
		}
	}
}

func (v *validator) compileExpr(e *Expr, path []string, sc scope) {
	if err := e.compile(); err != nil {
		ee := err.(*exprError)
		l, c := e.pos.at(e.Source, ee.Offset, v.d.lines)
		if l == 0 {
			v.d.errPath(path, "invalid expression %q: %s", e.Source, ee.Message)
			return
		}
		v.d.add(SeverityError, l, c, pathString(path), "invalid expression: %s", ee.Message)
		return
	}
	v.checkNames(e.Source, path, sc, func(off int) (int, int) { return e.pos.at(e.Source, off, v.d.lines) })
}

func (v *validator) compileTemplate(t *Template, path []string) {
	if t.IsZero() {
		return
	}
	if err := t.compile(); err != nil {
		te := err.(*templateError)
		l, c := t.pos.at(t.raw, te.Offset, v.d.lines)
		if l == 0 {
			v.d.errPath(path, "invalid template %q: %s", t.raw, te.Message)
			return
		}
		v.d.add(SeverityError, l, c, pathString(path), "invalid template: %s", te.Message)
		return
	}
	for _, s := range t.segs {
		if s.expr == nil {
			continue
		}
		base := s.off
		v.checkNames(s.expr.Source, path, scopeNode, func(off int) (int, int) { return t.pos.at(t.raw, base+off, v.d.lines) })
	}
}

// nameVisitor finds vars.X references and uses of scoped Env fields.
type nameVisitor struct {
	vars   []*ast.MemberNode
	idents []*ast.IdentifierNode
}

func (nv *nameVisitor) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.MemberNode:
		if id, ok := n.Node.(*ast.IdentifierNode); ok && id.Value == "vars" {
			if _, ok := n.Property.(*ast.StringNode); ok {
				nv.vars = append(nv.vars, n)
			}
		}
	case *ast.IdentifierNode:
		nv.idents = append(nv.idents, n)
	}
}

// checkNames reports references to undefined variables (error) and uses of
// response or result outside the mapping that sets them (warning).
func (v *validator) checkNames(src string, path []string, sc scope, at func(off int) (int, int)) {
	tree, err := exprparser.Parse(src)
	if err != nil {
		return
	}
	nv := &nameVisitor{}
	ast.Walk(&tree.Node, nv)
	report := func(sev Severity, off int, format string, args ...any) {
		l, c := at(off)
		if l == 0 {
			v.d.report(sev, path, false, format, args...)
			return
		}
		v.d.add(sev, l, c, pathString(path), format, args...)
	}
	for _, m := range nv.vars {
		name := m.Property.(*ast.StringNode).Value
		if !v.defined[name] {
			report(SeverityError, m.Node.Location().From, "unknown variable vars.%s: declare it under variables or assign it in a node (set, gather var, http response, subflow output, ...)", name)
		}
	}
	for _, id := range nv.idents {
		switch {
		case id.Value == "response" && sc != scopeResponse:
			report(SeverityWarning, id.Location().From, "response is only set in the response mapping of an http node; here it is empty")
		case id.Value == "result" && sc != scopeResult:
			report(SeverityWarning, id.Location().From, "result is only set in the output mapping of a subflow node; here it is empty")
		}
	}
}

// checkReachable warns about nodes not reachable from entry or on_hangup.
func (v *validator) checkReachable(ids []string) {
	seen := map[string]bool{}
	var queue []string
	for _, start := range []string{v.f.Entry, v.f.OnHangup} {
		if _, ok := v.f.Nodes[start]; ok && !seen[start] {
			seen[start] = true
			queue = append(queue, start)
		}
	}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		n := v.f.Nodes[id]
		if n == nil {
			continue
		}
		for _, e := range n.Exits() {
			if _, ok := v.f.Nodes[e.Target]; ok && !seen[e.Target] {
				seen[e.Target] = true
				queue = append(queue, e.Target)
			}
		}
	}
	if len(seen) == 0 {
		return // entry is missing: already an error
	}
	for _, id := range ids {
		if !seen[id] {
			v.d.report(SeverityWarning, v.nodePath(id), true, "node %s is unreachable from entry or on_hangup", id)
		}
	}
}

// checkLoops reports cycles of nodes that never wait for the caller or for
// time: they would spin until max_steps. It removes the nodes that take
// input and looks for strongly connected components in what is left.
func (v *validator) checkLoops(ids []string) {
	spin := func(id string) bool {
		n := v.f.Nodes[id]
		return n != nil && !n.Type.Waits()
	}
	succ := func(id string) []string {
		var out []string
		for _, e := range v.f.Nodes[id].Exits() {
			if _, ok := v.f.Nodes[e.Target]; ok && spin(e.Target) {
				out = append(out, e.Target)
			}
		}
		return out
	}
	// Tarjan's algorithm, iterating IDs in sorted order for stable output.
	index := map[string]int{}
	low := map[string]int{}
	onStack := map[string]bool{}
	var stack []string
	var sccs [][]string
	next := 0
	var strong func(id string)
	strong = func(id string) {
		index[id], low[id] = next, next
		next++
		stack = append(stack, id)
		onStack[id] = true
		for _, w := range succ(id) {
			if _, ok := index[w]; !ok {
				strong(w)
				low[id] = min(low[id], low[w])
			} else if onStack[w] {
				low[id] = min(low[id], index[w])
			}
		}
		if low[id] == index[id] {
			var comp []string
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[w] = false
				comp = append(comp, w)
				if w == id {
					break
				}
			}
			sccs = append(sccs, comp)
		}
	}
	for _, id := range ids {
		if _, ok := index[id]; !ok && spin(id) {
			strong(id)
		}
	}
	for _, comp := range sccs {
		in := map[string]bool{}
		for _, id := range comp {
			in[id] = true
		}
		sort.Strings(comp)
		start := comp[0]
		if len(comp) == 1 && !contains(succ(start), start) {
			continue
		}
		cycle := findCycle(start, in, succ)
		v.d.errKey(v.nodePath(start), "infinite loop: %s never waits for the caller or for time; add a menu, gather or wait node to the loop", strings.Join(cycle, " -> "))
	}
}

// findCycle returns a path start -> ... -> start inside the component.
func findCycle(start string, in map[string]bool, succ func(string) []string) []string {
	prev := map[string]string{}
	queue := []string{start}
	visited := map[string]bool{}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		for _, w := range succ(id) {
			if !in[w] {
				continue
			}
			if w == start {
				path := []string{start}
				for x := id; x != start; x = prev[x] {
					path = append(path, x)
				}
				// path is start, then the nodes backwards: reverse all but the first.
				for i, j := 1, len(path)-1; i < j; i, j = i+1, j-1 {
					path[i], path[j] = path[j], path[i]
				}
				return append(path, start)
			}
			if !visited[w] {
				visited[w] = true
				prev[w] = id
				queue = append(queue, w)
			}
		}
	}
	return []string{start, start}
}

func itoa(i int) string { return strconv.Itoa(i) }

package flows

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
)

// DisabledBuiltins are expr-lang builtins that flow expressions cannot call
// because their result depends on something other than the expression's
// inputs, which would break deterministic replay of a call's workflow:
//
//   - now: reads the wall clock (use the `now` variable, the workflow time).
//   - keys, values, toPairs: return a map's entries in Go's random map order.
var DisabledBuiltins = []string{"now", "keys", "values", "toPairs"}

// disabledCall finds a call of a disabled builtin in an expression source.
var disabledCall = regexp.MustCompile(`\b(now|keys|values|toPairs)\s*\(`)

// Expr is an expr-lang expression written in a flow, such as
// `vars.attempts < 3`. It is compiled once (by Parse) and evaluated many
// times against an Env.
type Expr struct {
	Source string

	pos    origin
	asBool bool
	prog   atomic.Pointer[vm.Program]
}

// NewExpr returns an uncompiled expression; Eval compiles it on first use.
func NewExpr(source string) *Expr { return &Expr{Source: source} }

// String returns the expression's source.
func (e *Expr) String() string {
	if e == nil {
		return ""
	}
	return e.Source
}

// compileOptions are the expr-lang options every flow expression uses.
func compileOptions(asBool bool) []expr.Option {
	opts := []expr.Option{expr.Env(Env{})}
	for _, name := range DisabledBuiltins {
		opts = append(opts, expr.DisableBuiltin(name))
	}
	if asBool {
		opts = append(opts, expr.AsBool())
	}
	return opts
}

// exprError is a compile error of an expression with the rune offset in its
// source where it was found.
type exprError struct {
	Offset  int
	Message string
}

func (e *exprError) Error() string { return e.Message }

// compile compiles the expression and keeps the program. It is
// deterministic and safe to call concurrently.
func (e *Expr) compile() error {
	if strings.TrimSpace(e.Source) == "" {
		return &exprError{Message: "empty expression"}
	}
	prog, err := expr.Compile(e.Source, compileOptions(e.asBool)...)
	if err != nil {
		return toExprError(e.Source, err)
	}
	e.prog.Store(prog)
	return nil
}

func toExprError(source string, err error) *exprError {
	if loc := disabledCall.FindStringSubmatchIndex(source); loc != nil {
		name := source[loc[2]:loc[3]]
		msg := fmt.Sprintf("function %s() is disabled in flow expressions: its result is not deterministic", name)
		if name == "now" {
			msg += "; use the variable now (the call's workflow time)"
		}
		return &exprError{Offset: len([]rune(source[:loc[0]])), Message: msg}
	}
	var fe *file.Error
	if ferr, ok := err.(*file.Error); ok {
		fe = ferr
	}
	if fe == nil {
		return &exprError{Message: err.Error()}
	}
	off := fe.From
	if n := len([]rune(source)); off > n {
		off = n
	}
	if off < 0 {
		off = 0
	}
	return &exprError{Offset: off, Message: fe.Message}
}

func (e *Expr) program() (*vm.Program, error) {
	if p := e.prog.Load(); p != nil {
		return p, nil
	}
	if err := e.compile(); err != nil {
		return nil, fmt.Errorf("compile expression %q: %w", e.Source, err)
	}
	return e.prog.Load(), nil
}

// Eval evaluates the expression against env (nil means an empty Env).
func (e *Expr) Eval(env *Env) (any, error) {
	if e == nil {
		return nil, fmt.Errorf("evaluate expression: no expression")
	}
	prog, err := e.program()
	if err != nil {
		return nil, err
	}
	if env == nil {
		env = &Env{}
	}
	out, err := expr.Run(prog, *env)
	if err != nil {
		return nil, fmt.Errorf("evaluate expression %q: %w", e.Source, err)
	}
	return out, nil
}

// EvalBool evaluates a condition. A nil result (an unset variable) is false;
// any other non-boolean result is an error.
func (e *Expr) EvalBool(env *Env) (bool, error) {
	v, err := e.Eval(env)
	if err != nil {
		return false, err
	}
	switch b := v.(type) {
	case bool:
		return b, nil
	case nil:
		return false, nil
	}
	return false, fmt.Errorf("evaluate condition %q: got %T, want bool", e.Source, v)
}

// segment is a literal text or an expression of a Template.
type segment struct {
	text string
	expr *Expr
	off  int // rune offset of the expression source in the template
}

// Template is text with `{{ expression }}` segments, such as
// "Hello {{ vars.name }}". A template without `{{` renders as its text.
type Template struct {
	raw  string
	pos  origin
	segs []segment
}

// NewTemplate returns a template of raw text; Render compiles it on first use.
func NewTemplate(raw string) Template { return Template{raw: raw} }

// String returns the template's raw text.
func (t Template) String() string { return t.raw }

// IsZero reports whether the template is empty.
func (t Template) IsZero() bool { return t.raw == "" }

// templateError is a template compile error at a rune offset of the raw text.
type templateError = exprError

// split parses the raw text into segments without compiling them.
func (t Template) split() ([]segment, error) {
	var segs []segment
	raw := t.raw
	runeOff := 0
	for raw != "" {
		i := strings.Index(raw, "{{")
		if i < 0 {
			segs = append(segs, segment{text: raw})
			break
		}
		if i > 0 {
			segs = append(segs, segment{text: raw[:i]})
		}
		start := runeOff + len([]rune(raw[:i]))
		rest := raw[i+2:]
		j := strings.Index(rest, "}}")
		if j < 0 {
			return nil, &templateError{Offset: start, Message: "unclosed {{ in template (missing }})"}
		}
		src := rest[:j]
		segs = append(segs, segment{expr: &Expr{Source: src}, off: start + 2})
		consumed := raw[:i+2+j+2]
		runeOff += len([]rune(consumed))
		raw = raw[i+2+j+2:]
	}
	return segs, nil
}

// compile splits and compiles every expression of the template. Errors carry
// the rune offset in the raw text.
func (t *Template) compile() error {
	segs, err := t.split()
	if err != nil {
		return err
	}
	for _, s := range segs {
		if s.expr == nil {
			continue
		}
		if err := s.expr.compile(); err != nil {
			ee := err.(*exprError)
			return &templateError{Offset: s.off + ee.Offset, Message: ee.Message}
		}
	}
	t.segs = segs
	return nil
}

// Render evaluates the template against env.
func (t Template) Render(env *Env) (string, error) {
	if !strings.Contains(t.raw, "{{") {
		return t.raw, nil
	}
	segs := t.segs
	if segs == nil {
		if err := t.compile(); err != nil {
			return "", fmt.Errorf("template %q: %w", t.raw, err)
		}
		segs = t.segs
	}
	var b strings.Builder
	for _, s := range segs {
		if s.expr == nil {
			b.WriteString(s.text)
			continue
		}
		v, err := s.expr.Eval(env)
		if err != nil {
			return "", fmt.Errorf("render template %q: %w", t.raw, err)
		}
		b.WriteString(FormatValue(v))
	}
	return b.String(), nil
}

// FormatValue renders an expression result as template text: nil is empty,
// strings as is, whole floats without a fraction, times in RFC 3339, and
// maps and slices as JSON (with sorted keys, so the text is deterministic).
func FormatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	case time.Time:
		return x.Format(time.RFC3339)
	case time.Duration:
		return x.String()
	case fmt.Stringer:
		return x.String()
	}
	if b, err := json.Marshal(v); err == nil {
		return string(b)
	}
	return fmt.Sprint(v)
}

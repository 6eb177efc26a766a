package flows

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Severity of a diagnostic.
type Severity string

// Severities.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Diagnostic is one problem found in a flow file, at a line and column of
// the YAML source.
type Diagnostic struct {
	File     string   `json:"file"`
	Line     int      `json:"line"`
	Column   int      `json:"column"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	// Path is the YAML path of the offending value, like $.nodes.menu.options.1.next.
	Path string `json:"path,omitempty"`
	// Snippet is the source line and a caret line under the column.
	Snippet string `json:"snippet,omitempty"`
}

// String formats the diagnostic as `file:line:col: severity: message`
// followed by the snippet lines.
func (d Diagnostic) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d:%d: %s: %s", d.File, d.Line, d.Column, d.Severity, d.Message)
	if d.Snippet != "" {
		b.WriteByte('\n')
		b.WriteString(d.Snippet)
	}
	return b.String()
}

// Diagnostics are the problems of a flow file, sorted by position.
type Diagnostics []Diagnostic

// HasErrors reports whether any diagnostic is an error.
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if d.Severity == SeverityError {
			return true
		}
	}
	return false
}

// Errors returns only the error diagnostics.
func (ds Diagnostics) Errors() Diagnostics {
	var out Diagnostics
	for _, d := range ds {
		if d.Severity == SeverityError {
			out = append(out, d)
		}
	}
	return out
}

// String renders every diagnostic, one after the other.
func (ds Diagnostics) String() string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(d.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// Err returns an error listing every error diagnostic, or nil if there is none.
func (ds Diagnostics) Err() error {
	errs := ds.Errors()
	if len(errs) == 0 {
		return nil
	}
	return &InvalidFlowError{Diagnostics: errs}
}

// InvalidFlowError is the error of a flow with error diagnostics.
type InvalidFlowError struct {
	Diagnostics Diagnostics
}

func (e *InvalidFlowError) Error() string {
	var b strings.Builder
	file := ""
	if len(e.Diagnostics) > 0 {
		file = e.Diagnostics[0].File
	}
	fmt.Fprintf(&b, "invalid flow %s: %d error(s)", file, len(e.Diagnostics))
	for _, d := range e.Diagnostics {
		fmt.Fprintf(&b, "\n%s:%d:%d: %s", d.File, d.Line, d.Column, d.Message)
	}
	return b.String()
}

// IsInvalidFlow reports whether err is (or wraps) an InvalidFlowError.
func IsInvalidFlow(err error) bool {
	var e *InvalidFlowError
	return errors.As(err, &e)
}

// sortDiagnostics orders diagnostics by line, column, then message.
func sortDiagnostics(ds Diagnostics) {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		return a.Message < b.Message
	})
}

// snippet renders a source line and a caret under the column.
func snippet(lines []string, line, col int) string {
	if line < 1 || line > len(lines) {
		return ""
	}
	text := strings.ReplaceAll(lines[line-1], "\t", " ")
	prefix := fmt.Sprintf("%5d | ", line)
	pad := strings.Repeat(" ", len(prefix)-2) + "| "
	caret := ""
	if col > 0 {
		w := len([]rune(text))
		if col-1 > w {
			col = w + 1
		}
		caret = strings.Repeat(" ", col-1) + "^"
	}
	return prefix + text + "\n" + pad + caret
}

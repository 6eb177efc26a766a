package flows

import (
	"os"
	"strings"
	"testing"
)

// TestDocsCoverTable checks that docs/flow-language.md documents every node
// type with each of its fields, so the reference follows the field table.
func TestDocsCoverTable(t *testing.T) {
	src, err := os.ReadFile("../docs/flow-language.md")
	if err != nil {
		t.Skipf("docs not found: %v", err)
	}
	sections := map[string]string{}
	for _, part := range strings.Split(string(src), "\n### ")[1:] {
		title, body, _ := strings.Cut(part, "\n")
		sections[strings.TrimSpace(title)] = body
	}
	for _, ts := range nodeTypes {
		body, ok := sections[string(ts.Type)]
		if !ok {
			t.Errorf("docs lack a section for node type %s", ts.Type)
			continue
		}
		for _, f := range ts.fields() {
			if f.Name == "type" || f.Name == "label" {
				continue
			}
			if !strings.Contains(body, "`"+f.Name+"`") {
				t.Errorf("docs section %s does not mention field %s", ts.Type, f.Name)
			}
		}
	}
	for _, name := range DisabledBuiltins {
		if !strings.Contains(string(src), "`"+name+"()`") {
			t.Errorf("docs do not list disabled builtin %s", name)
		}
	}
}

package flows

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// checkGolden compares got with the golden file, or rewrites it with -update.
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test ./flows -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestInvalidGolden parses every testdata/invalid/*.yaml and compares the
// rendered diagnostics with the .golden file next to it.
func TestInvalidGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/invalid/*.yaml")
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(strings.TrimSuffix(name, ".yaml"), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			_, diags := Parse(name, src)
			if len(diags) == 0 {
				t.Fatal("no diagnostics for an invalid flow")
			}
			for i, d := range diags {
				if d.Line < 1 || d.Column < 1 || d.File != name || d.Snippet == "" {
					t.Errorf("diagnostic without position or snippet: %+v", d)
				}
				if i > 0 && (diags[i-1].Line > d.Line || diags[i-1].Line == d.Line && diags[i-1].Column > d.Column) {
					t.Errorf("diagnostics not sorted: %v before %v", diags[i-1], d)
				}
			}
			checkGolden(t, strings.TrimSuffix(file, ".yaml")+".golden", []byte(diags.String()))
			// Parse is deterministic.
			_, again := Parse(name, src)
			if again.String() != diags.String() {
				t.Errorf("Parse is not deterministic:\n%s\n---\n%s", diags, again)
			}
		})
	}
}

func TestSchemaGolden(t *testing.T) {
	s := Schema()
	if !bytes.Equal(s, Schema()) {
		t.Fatal("Schema bytes are not stable")
	}
	checkGolden(t, "testdata/flow.schema.json", s)
}

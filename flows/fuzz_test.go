package flows

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that decoding and validating any input never panics and
// that every diagnostic has a position. The seed corpus is testdata/**/*.yaml.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"testdata/valid/*.yaml", "testdata/invalid/*.yaml"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			src, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		flow, diags := Parse("fuzz.yaml", src)
		for _, d := range diags {
			if d.Line < 1 || d.Column < 1 {
				t.Fatalf("diagnostic without position: %+v", d)
			}
			_ = d.String()
		}
		if flow == nil && !diags.HasErrors() {
			t.Fatal("nil flow without errors")
		}
		_ = Schema
	})
}

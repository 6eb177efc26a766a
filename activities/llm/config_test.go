package llm

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// golden compares got with testdata/name, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs (run with -update to accept):\n got:\n%s\nwant:\n%s", name, got, want)
	}
}

func TestDefaults(t *testing.T) {
	d := Defaults()
	if d.Enabled() || d.APIType != APIOpenAI || d.Model != DefaultModel || d.Timeout != 10*time.Second || d.MaxRetries != 3 ||
		d.Breaker.Failures != 5 || d.Breaker.CoolDown != 30*time.Second || d.JSONMode != JSONSchema {
		t.Errorf("defaults = %+v", d)
	}
	if err := d.Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
	if az := (Config{APIType: APIAzure}).WithDefaults(); az.APIVersion != DefaultAzureAPIVersion {
		t.Errorf("azure api version = %q", az.APIVersion)
	}
	if (Config{MaxRetries: -1}).WithDefaults().retries() != 0 {
		t.Error("negative MaxRetries must mean no retries")
	}
}

func TestValidateErrors(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
	}{
		{"base_url without scheme", Config{BaseURL: "api.openai.com/v1"}},
		{"base_url ftp", Config{BaseURL: "ftp://models.internal/v1"}},
		{"api_type", Config{BaseURL: "http://localhost:11434/v1", APIType: "anthropic"}},
		{"deployments on openai", Config{BaseURL: "https://api.openai.com/v1", Deployments: map[string]string{"gpt-4o": "x"}}},
		{"negatives", Config{Timeout: -time.Second, Breaker: BreakerConfig{Failures: -1, CoolDown: -time.Second}}},
		{"json_mode", Config{JSONMode: "grammar"}},
	}
	var out strings.Builder
	for _, tc := range cases {
		err := tc.cfg.Validate()
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v does not wrap ErrConfig", tc.name, err)
		}
		out.WriteString("# " + tc.name + "\n" + err.Error() + "\n")
	}
	golden(t, "validate_errors.golden", []byte(out.String()))
	for _, ok := range []Config{
		{BaseURL: "http://localhost:11434/v1", Model: "llama3.2"},
		{BaseURL: "https://acme.openai.azure.com", APIType: APIAzure, Deployments: map[string]string{"gpt-4o": "prod"}},
		{BaseURL: "http://127.0.0.1:8000/v1", JSONMode: JSONTool, MaxRetries: -1},
	} {
		if err := ok.Validate(); err != nil {
			t.Errorf("%+v: %v", ok, err)
		}
	}
}

func TestNewNeedsAnEndpoint(t *testing.T) {
	if _, err := New(Config{}, "", nil, nil); !errors.Is(err, ErrConfig) {
		t.Errorf("New without base_url: %v", err)
	}
	if _, err := New(Config{BaseURL: "x"}, "", nil, nil); !errors.Is(err, ErrConfig) {
		t.Errorf("New with a bad base_url: %v", err)
	}
}

func TestLoadAPIKey(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // umask may have narrowed it
			t.Fatal(err)
		}
		return p
	}
	t.Setenv(DefaultKeyEnv, "sk-from-env\n")
	t.Setenv("OTHER_KEY", "sk-other")

	cases := []struct {
		name, env, file, want, err string
	}{
		{"default env", "", "", "sk-from-env", ""},
		{"named env", "OTHER_KEY", "", "sk-other", ""},
		{"unset env", "NO_SUCH_KEY_VAR", "", "", ""},
		{"file", "", write("key", "sk-from-file\r\n", 0o600), "sk-from-file", ""},
		{"file over env", "OTHER_KEY", write("key2", "sk-file-wins\n", 0o400), "sk-file-wins", ""},
		{"group readable", "", write("key3", "sk-x\n", 0o640), "", "is readable by group or others (mode 0640): chmod 600 it"},
		{"world readable", "", write("key4", "sk-x\n", 0o604), "", "(mode 0604)"},
		{"empty", "", write("key5", "\n", 0o600), "", "is empty"},
		{"missing", "", filepath.Join(dir, "nope"), "", "no such file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LoadAPIKey(tc.env, tc.file)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "sk-x") {
					t.Errorf("error shows the key: %v", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

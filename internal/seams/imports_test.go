package seams

import (
	"bytes"
	"encoding/json"
	"io"
	"os/exec"
	"path"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/voxflow/voxflow/"

// arrows are the voxflow packages each package may import (non-test
// imports; "x/..." is x and everything under it). A package matching no
// rule fails the test: a new package is placed in the design on purpose.
// Keep this table and docs/architecture.md's "Dependency direction" equal.
var arrows = []struct {
	pkg string
	may []string
	why string
}{
	{"activities/records", nil, "plain records: persisted by the store, carried by activities"},
	{"activities", []string{"activities/records"}, "the contracts: names, payloads, errors, the channel interface"},
	{"activities/builtin", []string{"activities", "activities/records"}, "shared activities behind interfaces the platform fills"},
	{"activities/redact", nil, "masks card numbers, codes and secrets in text: pure"},
	{"activities/nlu", []string{"activities"}, "the offline intent matcher, slots, sentiment and summary: pure"},
	{"activities/llm", []string{"activities", "activities/nlu", "activities/redact"}, "AI activities on OpenAI-compatible endpoints, offline fallbacks"},
	{"activities/llm/llmtest", []string{"activities"}, "a fake OpenAI-compatible server for tests"},
	{"internal/suggest", nil, "did-you-mean hints"},
	{"flows", []string{"internal/suggest"}, "the flow language: no Temporal, media or network"},
	{"flows/engine", []string{"flows", "activities", "activities/records", "activities/redact"}, "workflow code only"},
	{"store", []string{"activities/records"}, "persistence"},
	{"routing", nil, "the routing policy and formulas: pure"},
	{"routing/router", []string{"activities", "routing"}, "the router workflow: workflow code only"},
	{"dialer", []string{"activities/records", "internal/suggest"}, "campaign compliance and lists: numbers, windows, retries, CSV: pure"},
	{"dialer/pacing", []string{"activities/records"}, "pacing decisions: pure, deterministic (runs in workflow code)"},
	{"dialer/pacesim", []string{"activities/records", "dialer/pacing"}, "virtual-time simulation of the pacing"},
	{"dialer/campaign", []string{"activities", "activities/records", "dialer", "dialer/pacing"}, "the campaign workflow and its activities, the store and Temporal behind interfaces"},
	{"store/storetest", nil, "fresh test databases of each dialect"},
	{"media/g711", nil, ""},
	{"media/wav", []string{"media/g711"}, ""},
	{"media/audio", nil, ""},
	{"media/dtmf", nil, ""},
	{"media/rtp/...", []string{"media/g711"}, ""},
	{"media/openaiapi", nil, "OpenAI-compatible endpoints of the speech providers"},
	{"media/tts", []string{"media/openaiapi", "media/wav"}, ""},
	{"media/asr", []string{"media/audio", "media/openaiapi", "media/wav"}, ""},
	{"media/quality", nil, "the E-model: a call's MOS from loss and delay, pure"},
	{"media/sipguard", nil, "bans scanners and admits calls: limits, no SIP stack"},
	{"media/registrar/...", []string{"media/registrar"}, "SIP registrar; storage behind its own interfaces"},
	{"media/text", []string{"activities"}, "the text channel"},
	{"media/sipworker/...", []string{"activities", "activities/records", "media/..."}, "media workers see only the contracts"},
	{"media/webrtc", nil, "browsers' media transport (pion): no calls, no flows"},
	{"media/webrtc/webrtctest", []string{"media/g711", "media/webrtc"}, "a browser stand-in for tests"},
	{"media/browser", []string{"activities", "activities/records", "media/sipworker", "media/text", "media/webrtc"}, "browser signalling over WebSockets"},
	{"ops", []string{"activities", "activities/records", "flows/engine"}, "operator functions over a Temporal client"},
	{"platform/config", []string{"internal/suggest"}, "process configuration"},
	{"platform/telemetry", []string{"activities", "platform/config"}, "a process's Temporal metrics, logs and traces"},
	{"platform/codec", []string{"platform/config"}, "AES-256-GCM encryption of Temporal payloads"},
	{"platform", []string{"activities", "activities/...", "dialer/...", "flows", "flows/engine", "platform/codec", "platform/config", "platform/telemetry", "routing/...", "store"}, "the composition root: no SIP or WebRTC stack"},
	{"platform/apiserver", []string{"designer-api", "designer-api/temporalops", "media/text", "platform", "simulator", "store"}, "the HTTP side: API, pages, health, metrics (voxflow api, voxflow dev)"},
	{"platform/sipmedia", []string{"activities", "activities/records", "media/asr", "media/browser", "media/text", "media/registrar", "media/sipguard", "media/sipworker", "media/tts", "media/webrtc", "platform", "platform/config", "store"}, "builds SIP media workers, their browser channels and speech providers"},
	{"simulator", []string{"activities", "activities/records", "flows", "flows/engine", "media/text", "platform"}, ""},
	{"designer-api", []string{"activities", "activities/records", "dialer", "flows", "routing", "store"}, "the HTTP API: no media, no Temporal server"},
	{"designer-api/temporalops", []string{"activities", "activities/records", "designer-api", "flows/engine", "ops", "simulator"}, ""},
	{"internal/devtemporal/...", []string{"activities", "internal/devtemporal"}, "the embedded Temporal server"},
	{"platform/devstack", []string{"activities", "activities/records", "designer-api/...", "examples-flows/...", "flows", "internal/devtemporal", "media/browser", "media/text", "media/tts", "platform/...", "simulator", "store"}, "voxflow dev"},
	{"examples-flows/...", nil, ""},
	{"internal/cli", []string{"activities/...", "designer-api/...", "dialer/...", "examples-flows/...", "flows/...", "routing/...", "internal/devtemporal/...", "media/registrar", "media/text", "ops", "platform/...", "simulator", "store"}, "the commands"},
	{"cmd/voxflow", []string{"internal/cli"}, ""},
	{"internal/seams", nil, ""},
	{"bench/routingsim", []string{"routing"}, "virtual-time simulation of the routing policy"},
	{"bench/benchrig", []string{"flows", "store"}, "what the process-driving bench tools share: the binary, the chaos flow"},
	{"bench/chaos", []string{"activities/records", "bench/benchrig", "store"}, "kill -9 under SIP load: checks the CDRs"},
	{"bench/soak", []string{"bench/benchrig", "store"}, "long SIP load on voxflow dev"},
	{"bench/...", []string{"media/g711", "media/rtp"}, "load harness (its tests may import anything)"},
	{"e2e", nil, "end-to-end tests (test files may import anything)"},
	{"deploy", nil, "packaging checked by its tests (test files may import anything)"},
}

// forbiddenDeps are packages that must not be linked at all (transitive
// non-test imports), whatever the direct arrows say.
var forbiddenDeps = []struct {
	pkg, dep, why string
}{
	{"store", "go.temporal.io/", "the store links no Temporal"},
	{"activities/records", "go.temporal.io/", "records are plain data"},
	{"flows", "go.temporal.io/", "the flow language is Temporal-free"},
	{"routing", "go.temporal.io/", "the routing policy links no Temporal"},
	{"dialer", "go.temporal.io/", "the dialer's rules link no Temporal"},
	{"dialer/pacing", "go.temporal.io/", "pacing links no Temporal"},
	{"dialer/...", module + "media", "the dialer does not import media"},
	{"media/...", module + "flows", "media workers do not read flows"},
	{"media/...", module + "store", "media workers reach storage through interfaces"},
	{"platform", "github.com/emiago/", "the composition root links no SIP stack"},
	{"simulator", "github.com/emiago/", "the simulator links no SIP stack"},
	{"designer-api", "go.temporal.io/server", "the API links no Temporal server"},
	{"flows/engine", "github.com/sashabaranov/go-openai", "no network clients in workflow code"},
}

type goPackage struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

// listPackages runs go list over the module.
func listPackages(t *testing.T) []goPackage {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports,Deps", module+"...")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("go list: %v\n%s", err, errb.String())
	}
	var pkgs []goPackage
	dec := json.NewDecoder(&out)
	for {
		var p goPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		p.ImportPath = strings.TrimPrefix(p.ImportPath, module)
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// matches reports whether pkg is pattern, or under it for "x/...".
func matches(pattern, pkg string) bool {
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return pkg == base || strings.HasPrefix(pkg, base+"/")
	}
	return pkg == pattern
}

func TestImportRules(t *testing.T) {
	for _, p := range listPackages(t) {
		rule := -1
		for i, a := range arrows {
			if matches(a.pkg, p.ImportPath) {
				rule = i
				break
			}
		}
		if rule < 0 {
			t.Errorf("%s: no rule in the arrows table; place the package in docs/architecture.md and here", p.ImportPath)
			continue
		}
		for _, imp := range p.Imports {
			dep, ok := strings.CutPrefix(imp, module)
			if !ok {
				continue
			}
			allowed := matches(arrows[rule].pkg, dep) && arrows[rule].pkg != dep // within its own subtree
			for _, may := range arrows[rule].may {
				allowed = allowed || matches(may, dep)
			}
			if !allowed {
				t.Errorf("%s imports %s: not an allowed arrow (may import: %s)", p.ImportPath, dep, strings.Join(arrows[rule].may, ", "))
			}
		}
		for _, f := range forbiddenDeps {
			if !matches(f.pkg, p.ImportPath) {
				continue
			}
			for _, d := range p.Deps {
				if strings.HasPrefix(d, f.dep) {
					t.Errorf("%s links %s (%s)", p.ImportPath, d, f.why)
					break
				}
			}
		}
	}
}

// The rule for "x/..." must not shadow a more specific rule below it.
func TestArrowsOrder(t *testing.T) {
	for i, a := range arrows {
		for _, b := range arrows[i+1:] {
			if a.pkg != b.pkg && matches(a.pkg, strings.TrimSuffix(b.pkg, "/...")) {
				t.Errorf("rule %q comes before the narrower %q and hides it", a.pkg, b.pkg)
			}
		}
	}
	var names []string
	for _, a := range arrows {
		names = append(names, path.Clean(a.pkg))
	}
	sort.Strings(names)
	for i := 1; i < len(names); i++ {
		if names[i] == names[i-1] {
			t.Errorf("two rules for %s", names[i])
		}
	}
}

package nlu

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities"
)

// testNow is the clock of the labelled sets: Wednesday 2026-05-06.
var testNow = time.Date(2026, 5, 6, 10, 0, 0, 0, time.UTC)

// acceptAt is the default min_confidence of intent nodes.
const acceptAt = 0.5

func loadIntents(t testing.TB) []activities.IntentDef {
	t.Helper()
	b, err := os.ReadFile("testdata/intents.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Intents []activities.IntentDef `json:"intents"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("decode intents.json: %v", err)
	}
	return f.Intents
}

// labelled is one line of a labelled set.
type labelled struct {
	line        int
	text, label string
	slots       map[string]string
}

func loadLabelled(t testing.TB, path string) []labelled {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []labelled
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) < 2 {
			t.Fatalf("%s:%d: want text<TAB>intent[<TAB>slots]", path, n)
		}
		l := labelled{line: n, text: cols[0], label: cols[1], slots: map[string]string{}}
		if len(cols) > 2 && cols[2] != "" {
			for _, kv := range strings.Split(cols[2], ";") {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					t.Fatalf("%s:%d: slot %q is not k=v", path, n, kv)
				}
				l.slots[k] = v
			}
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// accuracy is what a labelled set measured.
type accuracy struct {
	total, correct     int
	none, falseAccepts int
	intents, rejects   int
	slotCases, slotsOK int
	unsure             int // right intents accepted below 0.7
	misses             []string
}

func (a accuracy) rate(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

func measure(t testing.TB, m *Matcher, intents []activities.IntentDef, set []labelled) accuracy {
	var a accuracy
	for _, l := range set {
		res, err := m.Classify(activities.IntentInput{Utterance: l.text, Intents: intents, Now: testNow, TimeZone: "UTC"})
		if err != nil {
			t.Fatalf("line %d: %v", l.line, err)
		}
		accepted := res.Intent != "" && res.Confidence >= acceptAt
		a.total++
		ok := false
		if l.label == "none" {
			a.none++
			ok = !accepted
			if accepted {
				a.falseAccepts++
			}
		} else {
			a.intents++
			ok = accepted && res.Intent == l.label
			if !ok {
				a.rejects++
			}
		}
		if ok && l.label != "none" && res.Confidence < 0.7 {
			a.unsure++
		}
		if ok {
			a.correct++
		} else {
			a.misses = append(a.misses, fmt.Sprintf("line %d %q: want %s, got %q at %.3f", l.line, l.text, l.label, res.Intent, res.Confidence))
		}
		if len(l.slots) > 0 {
			a.slotCases++
			if slotsMatch(res.Slots, l.slots) {
				a.slotsOK++
			} else {
				a.misses = append(a.misses, fmt.Sprintf("line %d %q: want slots %v, got %v", l.line, l.text, l.slots, res.Slots))
			}
		}
	}
	return a
}

func slotsMatch(got map[string]any, want map[string]string) bool {
	for k, v := range want {
		if fmt.Sprint(got[k]) != v {
			return false
		}
	}
	return true
}

// TestAccuracy measures the matcher on the tuned set (developed against)
// and the held-out set (written first, never tuned on). The floors are
// set below what was measured, so a regression fails; the figures are in
// the log (go test -run TestAccuracy -v).
func TestAccuracy(t *testing.T) {
	intents := loadIntents(t)
	m := NewMatcher()
	for _, c := range []struct {
		name, path         string
		minAccuracy        float64
		maxFAR, maxFRR     float64
		minSlotCaseSuccess float64
	}{
		// Measured when the floors were set (see the log for the misses):
		// tuned 96.2% accurate, false accept 5.3%, false reject 3.4%,
		// slots 97.1%; held-out (first and only measured after tuning
		// ended) 88.2%, 0.0%, 14.6%, 95.2%. Floors sit a few cases below.
		{"tuned", "testdata/tuned.tsv", 0.92, 0.11, 0.08, 0.92},
		{"heldout", "testdata/heldout.tsv", 0.83, 0.10, 0.20, 0.90},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := measure(t, m, intents, loadLabelled(t, c.path))
			acc, far, frr := a.rate(a.correct, a.total), a.rate(a.falseAccepts, a.none), a.rate(a.rejects, a.intents)
			slots := a.rate(a.slotsOK, a.slotCases)
			t.Logf("%s: %d utterances: accuracy %.1f%%, false accept %.1f%% (%d/%d none), false reject %.1f%% (%d/%d), slots %.1f%% (%d/%d), right but below 0.7: %d",
				c.name, a.total, 100*acc, 100*far, a.falseAccepts, a.none, 100*frr, a.rejects, a.intents, 100*slots, a.slotsOK, a.slotCases, a.unsure)
			for _, miss := range a.misses {
				t.Log(miss)
			}
			if acc < c.minAccuracy || far > c.maxFAR || frr > c.maxFRR || slots < c.minSlotCaseSuccess {
				t.Errorf("%s below its floors: accuracy %.3f (min %.2f), false accept %.3f (max %.2f), false reject %.3f (max %.2f), slots %.3f (min %.2f)",
					c.name, acc, c.minAccuracy, far, c.maxFAR, frr, c.maxFRR, slots, c.minSlotCaseSuccess)
			}
		})
	}
}

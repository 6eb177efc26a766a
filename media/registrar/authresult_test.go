package registrar

import (
	"io"
	"log/slog"
	"regexp"
	"testing"
	"time"
)

// outcome is one AuthResult call.
type outcome struct {
	src string
	ok  bool
}

func TestAuthResultReportsEachVerdict(t *testing.T) {
	clk := &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	var got []outcome
	r, err := New(Config{Accounts: testAccounts(), Locations: &MemoryLocations{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: clk.Now, AuthResult: func(src string, ok bool) { got = append(got, outcome{src, ok}) }})
	if err != nil {
		t.Fatal(err)
	}
	const contact = "Contact: <sip:alice@192.168.1.20:5062>"
	step := func(name string, p *phone, auth bool, code int, want ...outcome) {
		t.Helper()
		got = nil
		wantCode(t, p.register(auth, contact), code)
		if len(got) != len(want) || (len(want) == 1 && got[0] != want[0]) {
			t.Fatalf("%s: AuthResult got %v, want %v", name, got, want)
		}
	}
	src := "203.0.113.5:40000"
	alice := newPhone(t, r, "alice", "wonderland")
	step("no credentials", alice, false, 401)
	step("right password", alice, true, 200, outcome{src, true})
	wrong := newPhone(t, r, "alice", "guess")
	step("challenge", wrong, false, 401)
	step("wrong password", wrong, true, 401, outcome{src, false})
	ghost := newPhone(t, r, "ghost", "guess")
	step("challenge", ghost, false, 401)
	step("unknown user", ghost, true, 401, outcome{src, false})
	step("challenge", alice, false, 401)
	clk.Add(6 * time.Minute)
	step("stale nonce", alice, true, 401, outcome{src, false})
	step("retry after stale", alice, true, 200, outcome{src, true})
	alice.nc--
	step("replayed nonce count", alice, true, 401, outcome{src, false})
}

// nonceRE matches a challenge's nonce and the To tag, the parts that differ between
// two challenges.
var nonceRE = regexp.MustCompile(`nonce="[^"]*"|;tag=[0-9a-f-]{36}`)

// TestUnknownUsersLookKnown: an extension scanner (svwar) cannot tell a
// known user from an unknown one by the answer to REGISTER, with or
// without a guessed password: same status, same headers but the nonce and To tag.
func TestUnknownUsersLookKnown(t *testing.T) {
	clk := &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	r := newTestRegistrar(t, clk, &MemoryLocations{})
	answers := func(user string) []string {
		p := newPhone(t, r, user, "1234")
		p.callID = "scan" // the same request but for the user
		first := p.register(false, "Contact: <sip:"+user+"@192.0.2.1>")
		p.cseq = 0
		second := p.register(true, "Contact: <sip:"+user+"@192.0.2.1>")
		return []string{nonceRE.ReplaceAllString(first.String(), "nonce=N"), nonceRE.ReplaceAllString(second.String(), "nonce=N")}
	}
	mask := regexp.MustCompile(`(sip:)\w+(@)`)
	want := answers("ghost")
	for _, user := range []string{"alice", "bob", "carol", "dave"} {
		got := answers(user)
		for i := range got {
			g, w := mask.ReplaceAllString(got[i], "${1}U$2"), mask.ReplaceAllString(want[i], "${1}U$2")
			if g != w {
				t.Errorf("%s answer %d differs from an unknown user's:\n%s\nwant\n%s", user, i+1, g, w)
			}
		}
	}
}

// BenchmarkWrongPassword compares the work of a failed REGISTER for a known
// user (wrong password) and an unknown one, interleaved so that a busy
// machine slows both alike: svwar and svcrack must not tell them apart by
// time. Reports known-ns and unknown-ns per REGISTER; the store look-up is
// not included (accounts in memory here).
func BenchmarkWrongPassword(b *testing.B) {
	clk := &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	r, err := New(Config{Accounts: testAccounts(), Locations: &MemoryLocations{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: clk.Now})
	if err != nil {
		b.Fatal(err)
	}
	t := &testing.T{}
	known, unknown := newPhone(t, r, "alice", "guess"), newPhone(t, r, "ghost", "guess")
	known.register(false)
	unknown.register(false)
	var spent [2]time.Duration
	for i := range b.N {
		p := []*phone{known, unknown}[i%2]
		p.nc = 0
		start := time.Now()
		p.register(true)
		spent[i%2] += time.Since(start)
	}
	if n := b.N / 2; n > 0 {
		b.ReportMetric(float64(spent[0].Nanoseconds())/float64(n), "known-ns")
		b.ReportMetric(float64(spent[1].Nanoseconds())/float64(n), "unknown-ns")
	}
}

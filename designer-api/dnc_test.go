package designerapi

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/voxflow/voxflow/activities/records"
)

// Numbers are added normalised, each bad one rejected alone by its index;
// checked, listed by page and removed; changes nudge running campaigns.
func TestDNCAddCheckListRemove(t *testing.T) {
	e, fc, _ := newCampaignEnv(t, 0)
	e.createCampaign("spring", nil)
	e.setCampaignState("spring", records.CampaignRunning)
	w := e.do(RoleAdmin, http.MethodPost, Prefix+"/dnc", []map[string]any{
		{"number": "(415) 555-0100", "reason": "asked on a call"},
		{"number": "12"},
		{"number": "020 7946 0958", "campaign": "spring"},
		{"number": "+14155550101", "campaign": "nope"},
		{"number": "+1 415 555 0100"},
	})
	e.expect(w, http.StatusOK)
	got := decode[struct {
		Added    int           `json:"added"`
		Listed   int           `json:"already_listed"`
		Rejected []DNCRejected `json:"rejected"`
	}](t, w)
	if got.Added != 1 || got.Listed != 1 || len(got.Rejected) != 3 || got.Rejected[0].Index != 1 || got.Rejected[1].Index != 2 ||
		got.Rejected[2].Index != 3 || !strings.Contains(got.Rejected[2].Message, `no campaign "nope"`) {
		t.Fatalf("add: %+v", got)
	}
	if !strings.Contains(got.Rejected[1].Message, "invalid number") { // a GB number read in the default US
		t.Errorf("index 2: %+v", got.Rejected[1])
	}
	// ?region= reads national numbers of another country.
	w = e.do(RoleAdmin, http.MethodPost, Prefix+"/dnc?region=GB", []map[string]any{{"number": "020 7946 0958", "campaign": "spring"}})
	if got := decode[struct{ Added int }](t, w); w.Code != http.StatusOK || got.Added != 1 {
		t.Fatalf("GB: %d %s", w.Code, w.Body.String())
	}
	if calls := strings.Join(fc.called(), ","); calls != "nudge spring,nudge spring" {
		t.Fatalf("nudges: %s", calls)
	}
	for _, tc := range []struct {
		query  string
		listed bool
		list   string
	}{
		{"number=415-555-0100", true, ""},
		{"number=%2B442079460958", false, ""},
		{"number=%2B442079460958&campaign=spring", true, "spring"},
		{"number=%2B14155550199&campaign=spring", false, ""},
	} {
		w := e.do(RoleSupervisor, http.MethodGet, Prefix+"/dnc/check?"+tc.query)
		e.expect(w, http.StatusOK)
		c := decode[DNCCheck](t, w)
		if c.Listed != tc.listed || (c.Listed && c.Entry.Campaign != tc.list) || !strings.HasPrefix(c.Number, "+") {
			t.Errorf("check %s: %+v", tc.query, c)
		}
	}
	if w := e.do(RoleSupervisor, http.MethodGet, Prefix+"/dnc/check?number=12"); w.Code != http.StatusUnprocessableEntity {
		t.Errorf("check a bad number: %d", w.Code)
	}
	w = e.do(RoleSupervisor, http.MethodGet, Prefix+"/dnc")
	list := decode[struct{ Entries []records.DNCEntry }](t, w).Entries
	if len(list) != 1 || list[0].Number != "+14155550100" || list[0].Reason != "asked on a call" {
		t.Fatalf("global list: %+v", list)
	}
	e.expect(e.do(RoleAdmin, http.MethodDelete, Prefix+"/dnc/+14155550100"), http.StatusNoContent)
	if w := e.do(RoleAdmin, http.MethodDelete, Prefix+"/dnc/+14155550100"); w.Code != http.StatusNotFound ||
		!strings.Contains(w.Body.String(), "not on the global do-not-call list") {
		t.Fatalf("remove again: %d %s", w.Code, w.Body.String())
	}
	e.expect(e.do(RoleAdmin, http.MethodDelete, Prefix+"/dnc/020%207946%200958?region=GB&campaign=spring"), http.StatusNoContent)
	for _, tc := range []struct {
		role   Role
		method string
		path   string
	}{
		{RoleOperator, http.MethodPost, "/dnc"},
		{RoleOperator, http.MethodDelete, "/dnc/+14155550100"},
		{RoleViewer, http.MethodGet, "/dnc"},
	} {
		if w := e.do(tc.role, tc.method, Prefix+tc.path, []map[string]any{{"number": "+14155550100"}}); w.Code != http.StatusForbidden {
			t.Errorf("%s %s as %s: %d", tc.method, tc.path, tc.role, w.Code)
		}
	}
}

// A DNC CSV, with or without a header, adds its numbers to the lists its
// rows (or ?campaign=) name; bad rows are reported by row.
func TestDNCImport(t *testing.T) {
	e, _, _ := newCampaignEnv(t, 0)
	e.createCampaign("spring", nil)
	post := func(query, csv string) (int, ImportReport, string) {
		w := e.do(RoleAdmin, http.MethodPost, Prefix+"/dnc/import"+query, "Content-Type: text/csv", strings.NewReader(csv))
		var rep ImportReport
		if w.Code == http.StatusOK {
			rep = decode[ImportReport](t, w)
		}
		return w.Code, rep, w.Body.String()
	}
	code, rep, body := post("", "Phone,Reason,Campaign\n415-555-0100,complaint,\n+14155550101,,spring\n12,,\n+14155550102,,ghost\n\n415-555-0100,again,\n")
	if code != http.StatusOK || rep.Rows != 5 || rep.Accepted != 2 || rep.Duplicates != 1 || rep.Rejected != 2 ||
		rep.Errors[0].Row != 4 || rep.Errors[0].Column != "number" || rep.Errors[1].Row != 5 || rep.Errors[1].Value != "ghost" {
		t.Fatalf("with a header: %d %+v %s", code, rep, body)
	}
	code, rep, body = post("?campaign=spring&region=GB", "020 7946 0958,asked\n+14155550103\n")
	if code != http.StatusOK || rep.Rows != 2 || rep.Accepted != 2 {
		t.Fatalf("no header: %d %+v %s", code, rep, body)
	}
	e2, listed, err := e.store.CheckDNC(t.Context(), "+442079460958", "spring")
	if err != nil || !listed || e2.Campaign != "spring" || e2.Reason != "asked" {
		t.Fatalf("imported entry: %+v %v %v", e2, listed, err)
	}
	if code, _, body := post("?campaign=ghost", "+14155550104\n"); code != http.StatusUnprocessableEntity || !strings.Contains(body, `no campaign \"ghost\"`) {
		t.Fatalf("unknown campaign: %d %s", code, body)
	}
	if code, _, body := post("", "\"unterminated\n"); code != http.StatusUnprocessableEntity || !strings.Contains(body, "not CSV") {
		t.Fatalf("not CSV: %d %s", code, body)
	}
}

// ReadDNC reads headers in any case and order, rows with or without
// reason and campaign, and skips blank rows.
func TestReadDNC(t *testing.T) {
	for _, tc := range []struct {
		name, csv string
		want      []records.DNCEntry
		rejected  int
	}{
		{"header", "reason,msisdn\nx,+14155550100\n", []records.DNCEntry{{Number: "+14155550100", Reason: "x", Campaign: "dflt"}}, 0},
		{"bom", "\ufeffnumber\n+14155550100\n", []records.DNCEntry{{Number: "+14155550100", Campaign: "dflt"}}, 0},
		{"no header", "+14155550100,why,c1\n4155550101\n", []records.DNCEntry{
			{Number: "+14155550100", Reason: "why", Campaign: "c1"}, {Number: "+14155550101", Campaign: "dflt"}}, 0},
		{"bad first row", "phone-ish\n+14155550100\n", []records.DNCEntry{{Number: "+14155550100", Campaign: "dflt"}}, 1},
		{"blank rows", "\n\n+14155550100\n\n", []records.DNCEntry{{Number: "+14155550100", Campaign: "dflt"}}, 0},
		{"empty", "", nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []records.DNCEntry
			rep, err := ReadDNC(strings.NewReader(tc.csv), DNCOptions{Region: "US", Campaign: "dflt"}, func(e records.DNCEntry) error {
				got = append(got, e)
				return nil
			})
			if err != nil || rep.Rejected != tc.rejected || len(got) != len(tc.want) {
				t.Fatalf("%+v %v: %+v", got, err, rep)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("entry %d: %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
	stop := errors.New("store down")
	if _, err := ReadDNC(strings.NewReader("+14155550100\n"), DNCOptions{}, func(records.DNCEntry) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("emit's error: %v", err)
	}
}

// FuzzReadDNC: ReadDNC never panics, counts every row it reads as
// accepted or rejected, and emits E.164 numbers only.
func FuzzReadDNC(f *testing.F) {
	for _, s := range []string{"phone,reason\n+14155550100,x\n", "4155550100\n12\n", "\"a\nb\",c\n", "\ufeffnumber\n\n", ";;;\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, csv string) {
		emitted := 0
		rep, err := ReadDNC(strings.NewReader(csv), DNCOptions{Region: "US"}, func(e records.DNCEntry) error {
			if !strings.HasPrefix(e.Number, "+") {
				t.Fatalf("emitted %q", e.Number)
			}
			emitted++
			return nil
		})
		if rep.Accepted != emitted || rep.Accepted+rep.Rejected != rep.Rows || len(rep.Errors) > maxImportErrors {
			t.Fatalf("%+v (emitted %d, err %v)", rep, emitted, err)
		}
	})
}

package designerapi

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities/records"
)

// aiCDR is a finished voice call with a transcript, an AI turn in its
// path and, unless disposition is "", insights.
func aiCDR(callID, disposition, label string, started time.Time) records.CDR {
	r := records.CDR{CallID: callID, RunID: "run-" + callID, WorkflowID: "call-" + callID, Flow: "care", FlowVersion: 2,
		From: "+15550100", To: "1000", Channel: "sip", StartedAt: started, EndedAt: started.Add(time.Minute),
		Duration: time.Minute, Outcome: records.OutcomeCompleted,
		Path: []records.Step{
			{Node: "ask", Type: "intent", EnteredAt: started, LeftAt: started.Add(10 * time.Second), Outcome: "billing",
				AI: []records.AITurn{{Utterance: "I was charged twice", Intent: "billing", Confidence: 0.9,
					Slots: map[string]any{"amount": "12.50"}, Sentiment: -0.7, Source: "offline"}}},
			{Node: "agent", Type: "llm", EnteredAt: started.Add(10 * time.Second), LeftAt: started.Add(time.Minute),
				AI: []records.AITurn{{Reply: "I can refund that.", Tool: "refund", Source: "llm", Model: "small"}}},
		},
		Transcript: []records.ChatLine{
			{At: started, From: records.ChatFlow, Text: "How can I help?"},
			{At: started.Add(5 * time.Second), From: records.ChatCustomer, Text: "I was charged twice"},
		},
	}
	if disposition != "" {
		r.Insights = &records.Insights{Summary: "=HYPERLINK(\"x\") refund asked", Disposition: disposition, Sentiment: -0.65,
			SentimentLabel: label, KeyFacts: map[string]string{"amount": "12.50"}, Source: "llm", Model: "small"}
	}
	return r
}

func (e *testEnv) save(r records.CDR) {
	e.t.Helper()
	if err := e.store.SaveCDR(context.Background(), r); err != nil {
		e.t.Fatal(err)
	}
}

// GET /cdrs/{id} carries the insights, the voice transcript and the AI
// turns; search pages the insights and turns but no transcript; search
// filters on disposition and sentiment; the CSV export has the insights.
func TestCDRInsightsAPI(t *testing.T) {
	e := newEnv(t)
	base := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	e.save(aiCDR("v1", "refund", "negative", base))
	e.save(aiCDR("v2", "sale", "positive", base.Add(time.Minute)))
	e.save(aiCDR("v3", "", "", base.Add(2*time.Minute)))

	w := e.do(RoleViewer, http.MethodGet, Prefix+"/cdrs/v1")
	e.expect(w, http.StatusOK)
	var one struct {
		Insights *struct {
			Summary, Disposition, SentimentLabel, Source, Model string
			Sentiment                                           float64
			KeyFacts                                            map[string]string `json:"key_facts"`
		} `json:"insights"`
		Transcript []struct{ At, From, Text string } `json:"transcript"`
		Path       []struct {
			Node string           `json:"node"`
			AI   []map[string]any `json:"ai"`
		} `json:"path"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &one); err != nil {
		t.Fatal(err)
	}
	if one.Insights == nil || one.Insights.Disposition != "refund" || one.Insights.Sentiment != -0.65 || one.Insights.KeyFacts["amount"] != "12.50" ||
		!strings.Contains(w.Body.String(), `"sentiment_label":"negative"`) {
		t.Fatalf("insights in %s", w.Body.String())
	}
	if len(one.Transcript) != 2 || one.Transcript[1].From != "customer" || one.Transcript[1].At != "2026-06-01T09:00:05Z" {
		t.Fatalf("transcript %+v", one.Transcript)
	}
	if len(one.Path) != 2 || one.Path[0].AI[0]["intent"] != "billing" || one.Path[0].AI[0]["confidence"] != 0.9 ||
		one.Path[1].AI[0]["tool"] != "refund" {
		t.Fatalf("path %+v", one.Path)
	}

	search := func(query string) []string {
		t.Helper()
		w := e.do(RoleViewer, http.MethodGet, Prefix+"/cdrs"+query)
		e.expect(w, http.StatusOK)
		page := decode[struct{ CDRs []map[string]any }](t, w)
		var ids []string
		for _, c := range page.CDRs {
			if _, ok := c["transcript"]; ok {
				t.Errorf("%s: a search page carries %s's transcript", query, c["call_id"])
			}
			ids = append(ids, c["call_id"].(string))
		}
		return ids
	}
	for query, want := range map[string]string{
		"":                                       "v3 v2 v1",
		"?disposition=refund":                    "v1",
		"?sentiment=positive":                    "v2",
		"?sentiment=negative&disposition=sale":   "",
		"?sentiment=negative&disposition=refund": "v1",
	} {
		if got := strings.Join(search(query), " "); got != want {
			t.Errorf("%q: %q, want %q", query, got, want)
		}
	}
	w = e.do(RoleViewer, http.MethodGet, Prefix+"/cdrs?disposition=refund")
	if page := decode[struct{ CDRs []records.CDR }](t, w); page.CDRs[0].Insights == nil || page.CDRs[0].Path[0].AI == nil {
		t.Fatalf("search page without insights or AI turns: %+v", page.CDRs[0])
	}
	e.expect(e.do(RoleViewer, http.MethodGet, Prefix+"/cdrs?sentiment=furious"), http.StatusUnprocessableEntity)

	w = e.do(RoleViewer, http.MethodGet, Prefix+"/cdrs/export?format=csv")
	e.expect(w, http.StatusOK)
	rows, err := csv.NewReader(strings.NewReader(w.Body.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, c := range rows[0] {
		col[c] = i
	}
	v1, v3 := rows[3], rows[1]
	if v1[col["disposition"]] != "refund" || v1[col["sentiment"]] != "-0.65" || v1[col["sentiment_label"]] != "negative" ||
		v1[col["summary"]] != `'=HYPERLINK("x") refund asked` || v3[col["summary"]] != "" || v3[col["disposition"]] != "" {
		t.Fatalf("csv %q", rows)
	}
}

// GET /calls/{id} of a finished call carries its record's insights and
// transcript, and each timeline step its AI turns, whether the engine
// still knows the call or only its record is left; a running call has
// neither.
func TestCallDetailInsights(t *testing.T) {
	e := newEnv(t)
	base := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	rec := aiCDR("done", "refund", "negative", base)
	e.save(rec)

	check := func(id, origin string) CallDetail {
		t.Helper()
		w := e.do(RoleViewer, http.MethodGet, Prefix+"/calls/"+id)
		e.expect(w, http.StatusOK)
		d := decode[CallDetail](t, w)
		if d.Origin != origin {
			t.Fatalf("%s: origin %q, want %q", id, d.Origin, origin)
		}
		return d
	}
	d := check("done", "record")
	if !reflect.DeepEqual(d.Insights, rec.Insights) || !reflect.DeepEqual(d.Transcript, rec.Transcript) {
		t.Fatalf("from the record: insights %+v transcript %+v", d.Insights, d.Transcript)
	}
	if len(d.Timeline) != 2 || !reflect.DeepEqual(d.Timeline[0].AI, rec.Path[0].AI) || d.Timeline[1].AI[0].Tool != "refund" {
		t.Fatalf("timeline %+v", d.Timeline)
	}

	// The engine still answers for the ended call: the record adds the rest.
	e.calls.mu.Lock()
	e.calls.calls["done"] = CallState{CallID: "done", Flow: "care", FlowVersion: 2, Path: rec.Path, Steps: 2, Ended: true,
		Outcome: records.OutcomeCompleted}
	e.calls.mu.Unlock()
	d = check("done", "live")
	if !reflect.DeepEqual(d.Insights, rec.Insights) || len(d.Transcript) != 2 || d.Timeline[0].AI[0].Intent != "billing" {
		t.Fatalf("ended, from the engine: %+v", d)
	}

	// A running call: its AI turns so far, no record yet.
	e.calls.mu.Lock()
	live := e.calls.calls["c1"]
	live.Path[1].AI = []records.AITurn{{Utterance: "agent please", Intent: "agent", Confidence: 0.8}}
	e.calls.calls["c1"] = live
	e.calls.mu.Unlock()
	d = check("c1", "live")
	if d.Insights != nil || d.Transcript != nil || d.Timeline[1].AI[0].Utterance != "agent please" {
		t.Fatalf("running: %+v", d)
	}
}

// The OpenAPI document describes the new fields and filters.
func TestInsightsInOpenAPI(t *testing.T) {
	b, err := OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Name   string `json:"name"`
				Schema struct {
					Enum []string `json:"enum"`
				} `json:"schema"`
			} `json:"parameters"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					Description string `json:"description"`
				} `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	params := map[string][]string{}
	for _, p := range doc.Paths[Prefix+"/cdrs"]["get"].Parameters {
		params[p.Name] = p.Schema.Enum
	}
	if _, ok := params["disposition"]; !ok || strings.Join(params["sentiment"], ",") != "positive,neutral,negative" {
		t.Errorf("search-cdrs parameters %v", params)
	}
	for schema, props := range map[string][]string{
		"CallDetail":    {"insights", "transcript"},
		"TimelineStep":  {"ai"},
		"CDR":           {"insights", "transcript"},
		"CallAlerts":    {"since", "alerts"},
		"StreamProblem": {"source"},
	} {
		s, ok := doc.Components.Schemas[schema]
		if !ok {
			t.Errorf("no schema %s", schema)
			continue
		}
		for _, p := range props {
			if _, ok := s.Properties[p]; !ok {
				t.Errorf("%s has no %s", schema, p)
			}
		}
	}
	if d := doc.Components.Schemas["CallDetail"].Properties["insights"].Description; !strings.Contains(d, "summary") {
		t.Errorf("CallDetail.insights doc %q", d)
	}
}

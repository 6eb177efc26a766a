package designerapi

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities/records"
)

// TestCDRShowsChatTranscript: a web chat's record carries its transcript
// on GET /cdrs/{id}, not in search pages.
func TestCDRShowsChatTranscript(t *testing.T) {
	e := newEnv(t)
	base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	e.saveCDR("chat-1", "support", "completed", base)
	lines := []records.ChatLine{
		{At: base, From: records.ChatFlow, Text: "Type 1 for sales"},
		{At: base.Add(time.Second), From: records.ChatCustomer, Text: "1"},
		{At: base.Add(2 * time.Second), From: records.ChatAgent, Text: "Hello from Alice"},
	}
	if err := e.store.SaveChatTranscript(context.Background(), "chat-1", lines); err != nil {
		t.Fatal(err)
	}
	w := e.do(RoleViewer, http.MethodGet, Prefix+"/cdrs/chat-1")
	e.expect(w, http.StatusOK)
	var body struct {
		Transcript []struct{ At, From, Text string } `json:"transcript"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Transcript) != 3 || body.Transcript[2].From != "agent" || body.Transcript[2].Text != "Hello from Alice" ||
		body.Transcript[1].At != "2026-03-01T09:00:01Z" {
		t.Fatalf("transcript %+v in %s", body.Transcript, w.Body.String())
	}
	w = e.do(RoleViewer, http.MethodGet, Prefix+"/cdrs")
	e.expect(w, http.StatusOK)
	page := decode[struct{ CDRs []map[string]any }](t, w)
	if _, ok := page.CDRs[0]["transcript"]; len(page.CDRs) != 1 || ok {
		t.Fatalf("search page %+v", page)
	}
}

package designerapi

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities/records"
)

// TestCallEventsInDetail: a supervisor's actions kept for a call come
// back with its detail, live or from its record, oldest first.
func TestCallEventsInDetail(t *testing.T) {
	e := newEnv(t)
	w := e.do(RoleViewer, http.MethodGet, Prefix+"/calls/c1")
	e.expect(w, http.StatusOK)
	if d := decode[CallDetail](t, w); d.Events == nil || len(d.Events) != 0 {
		t.Fatalf("no events yet: %+v", d.Events)
	}
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	for i, a := range []string{"listen", "barge", "leave"} {
		if err := e.store.AddCallEvent(context.Background(), records.CallEvent{CallID: "c1", At: at.Add(time.Duration(i) * time.Second), Actor: "sue", Action: a}); err != nil {
			t.Fatal(err)
		}
	}
	w = e.do(RoleViewer, http.MethodGet, Prefix+"/calls/c1")
	e.expect(w, http.StatusOK)
	d := decode[CallDetail](t, w)
	if len(d.Events) != 3 || d.Events[0].Action != "listen" || d.Events[2].Action != "leave" || d.Events[1].Actor != "sue" || !d.Events[1].At.Equal(at.Add(time.Second)) {
		t.Fatalf("events %+v", d.Events)
	}
}

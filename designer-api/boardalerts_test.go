package designerapi

import (
	"context"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
)

// alert adds the engine's negative-sentiment event on call at at.
func (e *testEnv) alert(call string, at time.Time, detail string) {
	e.t.Helper()
	err := e.store.AddCallEvent(context.Background(), records.CallEvent{CallID: call, At: at, Actor: "ai",
		Action: activities.AlertNegativeSentiment, Detail: detail})
	if err != nil {
		e.t.Fatal(err)
	}
}

// The board stream brings supervisors and admins the alerts of live
// calls, newest first: a new alert is sent at once it is read, a call
// whose record is saved (it ended) leaves the list, and other events or
// old alerts never show. Viewers and agents get no alerts.
func TestBoardStreamAlerts(t *testing.T) {
	e := newEnv(t)
	now := time.Now().UTC()
	e.alert("old", now.Add(-2*alertsWindow), "too old")
	e.alert("ended", now.Add(-time.Minute), "ask: useless")
	e.save(aiCDR("ended", "", "", now.Add(-5*time.Minute)))
	e.alert("live1", now.Add(-2*time.Minute), "ask: this is useless")
	if err := e.store.AddCallEvent(context.Background(), records.CallEvent{CallID: "live1", At: now, Actor: "sue", Action: "listen"}); err != nil {
		t.Fatal(err)
	}
	base, _ := boardServer(t, e)
	sup, _ := openStream(t, base, e.keys[RoleSupervisor])
	admin, _ := openStream(t, base, e.keys[RoleAdmin])
	viewer, _ := openStream(t, base, e.keys[RoleViewer])

	ids := func(a CallAlerts) []string {
		var out []string
		for _, ev := range a.Alerts {
			out = append(out, ev.CallID)
		}
		return out
	}
	a := decodeData[CallAlerts](t, next(t, sup, EventAlerts))
	if got := ids(a); len(got) != 1 || got[0] != "live1" || a.Alerts[0].Detail != "ask: this is useless" || a.Alerts[0].Actor != "ai" ||
		a.Since.Before(now.Add(-alertsWindow-time.Minute)) {
		t.Fatalf("first alerts %+v", a)
	}
	if got := ids(decodeData[CallAlerts](t, next(t, admin, EventAlerts))); len(got) != 1 {
		t.Fatalf("admin's alerts %v", got)
	}

	e.alert("live2", now.Add(time.Second), "menu: I want to cancel, you are hopeless")
	if got := ids(decodeData[CallAlerts](t, next(t, sup, EventAlerts))); len(got) != 2 || got[0] != "live2" || got[1] != "live1" {
		t.Fatalf("after a new alert: %v", got)
	}
	e.save(aiCDR("live2", "", "", now))
	if got := ids(decodeData[CallAlerts](t, next(t, sup, EventAlerts))); len(got) != 1 || got[0] != "live1" {
		t.Fatalf("after live2 ended: %v", got)
	}

	// The viewer's stream went on meanwhile, without a single alert.
	next(t, viewer, EventCalls)
	for {
		select {
		case m := <-viewer:
			if m.event == EventAlerts {
				t.Fatalf("a viewer got the alerts: %s", m.data)
			}
		default:
			return
		}
	}
}

// A subscriber who may not see the alerts gets neither them nor their
// problems; one who may gets both.
func TestBoardSubscriberAlertRights(t *testing.T) {
	h := newBoardHub(boardReaders{missing: map[string]string{}}, fastBoard)
	plain := h.subscribe(boardRights{calls: true})
	defer h.unsubscribe(plain)
	sup := h.subscribe(boardRights{calls: true, alerts: true})
	defer h.unsubscribe(sup)
	gen := h.gen
	h.publish(gen, EventAlerts, EventAlerts, CallAlerts{Alerts: []records.CallEvent{{CallID: "x"}}}, nil)
	h.publish(gen, EventProblem+"/"+EventAlerts, EventProblem, StreamProblem{Source: EventAlerts, Detail: "store down"}, nil)
	keys := func(s *boardSub) map[string]bool {
		out := map[string]bool{}
		for _, ev := range s.take() {
			out[ev.key] = true
		}
		return out
	}
	if k := keys(plain); k[EventAlerts] || k[EventProblem+"/"+EventAlerts] {
		t.Errorf("a subscriber who may not see alerts got %v", k)
	}
	if k := keys(sup); !k[EventAlerts] || !k[EventProblem+"/"+EventAlerts] {
		t.Errorf("the supervisor got %v, want the alerts and their problem", k)
	}
}

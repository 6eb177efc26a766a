package designerapi

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/routing"
	"github.com/voxflow/voxflow/store"
)

// scheduled remembers the callbacks the fake router was asked to start.
var scheduled struct {
	sync.Mutex
	cbs []activities.CallbackRecord
}

func (f *fakeRouting) RequestCallback(_ context.Context, cb activities.CallbackRecord) (activities.CallbackRecord, error) {
	scheduled.Lock()
	defer scheduled.Unlock()
	scheduled.cbs = append(scheduled.cbs, cb)
	cb.ID, cb.State, cb.CallID = "cb-1", activities.CallbackScheduled, "cb-cb-1"
	return cb, nil
}

// A callback asked for at a local time in the caller's zone is started
// due at that instant; a time past, a zone that does not exist, an unknown
// queue are refused naming the field; an agent may not schedule one.
func TestScheduleCallback(t *testing.T) {
	e := newEnv(t)
	if err := e.store.PutQueue(context.Background(), store.Queue{Name: "support"}); err != nil {
		t.Fatal(err)
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	at := time.Now().In(paris).Add(48 * time.Hour).Truncate(time.Minute)
	body := map[string]any{"queue": "support", "number": "+33123456789", "at": at.Format(routing.CallbackLayout), "timezone": "Europe/Paris"}
	w := e.do(RoleOperator, http.MethodPost, Prefix+"/callbacks", body)
	e.expect(w, http.StatusCreated)
	got := decode[Callback](t, w)
	if got.ID != "cb-1" || got.State != "scheduled" || !got.DueAt.Equal(at) || got.Timezone != "Europe/Paris" {
		t.Fatalf("scheduled %+v, want due %v", got, at)
	}
	scheduled.Lock()
	last := scheduled.cbs[len(scheduled.cbs)-1]
	scheduled.Unlock()
	if last.Queue != "support" || last.Number != "+33123456789" || !last.DueAt.Equal(at) {
		t.Errorf("asked the router for %+v", last)
	}
	past := map[string]any{"queue": "support", "number": "100", "at": "2020-01-01T09:00", "timezone": "Europe/Paris"}
	e.wantProblem(RoleOperator, http.MethodPost, Prefix+"/callbacks", past, http.StatusUnprocessableEntity, "is in the past")
	zone := map[string]any{"queue": "support", "number": "100", "timezone": "Mars/Olympus"}
	e.wantProblem(RoleOperator, http.MethodPost, Prefix+"/callbacks", zone, http.StatusUnprocessableEntity, "body.timezone")
	unknown := map[string]any{"queue": "nope", "number": "100"}
	e.wantProblem(RoleOperator, http.MethodPost, Prefix+"/callbacks", unknown, http.StatusUnprocessableEntity, "body.queue")
	badAt := map[string]any{"queue": "support", "number": "100", "at": "tomorrow"}
	e.wantProblem(RoleOperator, http.MethodPost, Prefix+"/callbacks", badAt, http.StatusUnprocessableEntity, "body.at")
	e.expect(e.do(RoleAgent, http.MethodPost, Prefix+"/callbacks", body), http.StatusForbidden)
}

// A queue no call joined yet is staffed by the signed-in agents who serve
// it, an agent with no queues serving them all; an agent's alert shows on
// the board.
func TestQueueOnBoardAndAlerts(t *testing.T) {
	b := activities.Board{Agents: []activities.AgentView{
		{Name: "any", State: "available", Capacity: 1},
		{Name: "sales-only", State: "available", Queues: []string{"sales"}, Capacity: 1},
		{Name: "busy", State: "on_call", Queues: []string{"support"}, Capacity: 1, Calls: []string{"c1"},
			Alert: "long silence", AlertSince: time.Unix(100, 0)},
		{Name: "gone", State: "offline"},
	}}
	if v := QueueOnBoard(b, "support", 20*time.Second); v.Staffed != 2 || v.Available != 1 {
		t.Errorf("support: staffed %d available %d, want 2 and 1", v.Staffed, v.Available)
	}
	out := boardOf(b)
	if a := out.Agents[2]; a.Alert != "long silence" || !a.AlertSince.Equal(time.Unix(100, 0)) {
		t.Errorf("busy on the board: %+v", a)
	}
}

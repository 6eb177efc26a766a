package temporalops

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/danielgtaylor/huma/v2/humatest"

	"github.com/voxflow/voxflow/activities"
	designerapi "github.com/voxflow/voxflow/designer-api"
	"github.com/voxflow/voxflow/internal/devtemporal/devtemporaltest"
	"github.com/voxflow/voxflow/media/text"
	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/simulator"
	"github.com/voxflow/voxflow/store"
)

const twoMenus = `name: two-menus
entry: greet
nodes:
  greet:
    type: play
    say: "Welcome"
    next: menu
  menu:
    type: menu
    prompt: "Press 1 for sales or 2 to leave"
    options:
      "1": sales_menu
      "2": bye
  sales_menu:
    type: menu
    prompt: "Sales: press 1 to leave"
    options:
      "1": bye
  bye:
    type: hangup
    say: "Goodbye"
`

type quiet struct{ t *testing.T }

func (q quiet) Helper()             { q.t.Helper() }
func (q quiet) Log(...any)          {}
func (q quiet) Logf(string, ...any) {}

// TestAdaptersOnTemporal drives the API's simulate and calls operations
// through these adapters on a real in-process Temporal server.
func TestAdaptersOnTemporal(t *testing.T) {
	ts, c := devtemporaltest.NewServer(t)
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "voxflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ch := text.NewChannel("api-test", platform.HangupSignaler(c))
	ws, err := platform.StartWorkers(c, platform.Parts{Engine: true, Shared: platform.SharedActivities(st), Channels: []activities.Channel{ch}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ws.Stop)

	auth, err := designerapi.NewAuth(st, designerapi.AuthOptions{})
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := auth.CreateKey(ctx, "test", designerapi.RoleAdmin, "test")
	if err != nil {
		t.Fatal(err)
	}
	_, hapi := designerapi.New(designerapi.Config{Store: st, Auth: auth,
		Calls: NewCallOps(c, ts.GetDefaultNamespace()), Sim: NewSimulator(simulator.New(c, ch), nil)})
	api := humatest.Wrap(quiet{t}, hapi)
	bearer := "Authorization: Bearer " + key
	do := func(method, path string, want int, body ...any) *httptest.ResponseRecorder {
		t.Helper()
		w := api.Do(method, designerapi.Prefix+path, append([]any{bearer}, body...)...)
		if w.Code != want {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, w.Code, want, w.Body.String())
		}
		return w
	}
	if _, err := st.PublishSource(ctx, "two-menus", twoMenus, "test", ""); err != nil {
		t.Fatal(err)
	}

	start := func() string {
		w := do(http.MethodPost, "/simulate", http.StatusCreated, map[string]any{"flow": "two-menus"})
		var s designerapi.SimStarted
		_ = json.Unmarshal(w.Body.Bytes(), &s)
		return s.CallID
	}
	// waitFor polls the simulation until an event of kind at node (after
	// event seen) arrives, and returns its ID.
	waitFor := func(id string, after int, kind, node string) int {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			w := do(http.MethodGet, "/simulate/"+id, http.StatusOK)
			var s designerapi.SimStatus
			_ = json.Unmarshal(w.Body.Bytes(), &s)
			for _, e := range s.Events {
				if e.ID > after && e.Kind == kind && (node == "" || e.Node == node) {
					return e.ID
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("no %s at %s after event %d", kind, node, after)
		return 0
	}

	id := start()
	seen := waitFor(id, 0, designerapi.SimListen, "menu")

	w := do(http.MethodGet, "/calls?running=true&flow=two-menus", http.StatusOK)
	if !strings.Contains(w.Body.String(), id) {
		t.Fatalf("running calls lack %s: %s", id, w.Body.String())
	}
	w = do(http.MethodGet, "/calls/"+id, http.StatusOK)
	var d designerapi.CallDetail
	_ = json.Unmarshal(w.Body.Bytes(), &d)
	if d.Origin != "live" || d.Node != "menu" || len(d.Timeline) < 2 {
		t.Fatalf("live call %+v", d)
	}
	w = do(http.MethodGet, "/metrics/summary?flow=two-menus", http.StatusOK)
	if !strings.Contains(w.Body.String(), `"node":"menu","running":1`) {
		t.Errorf("metrics %s", w.Body.String())
	}
	w = do(http.MethodPost, "/calls/"+id+"/replay", http.StatusOK)
	if !strings.Contains(w.Body.String(), `"deterministic":true`) {
		t.Errorf("replay %s", w.Body.String())
	}
	// The history, as the Temporal CLI writes it, replays with the SDK.
	w = do(http.MethodGet, "/calls/"+id+"/history", http.StatusOK)
	hist, err := client.HistoryFromJSON(bytes.NewReader(w.Body.Bytes()), client.HistoryJSONOptions{})
	if err != nil || len(hist.Events) < 3 || w.Header().Get("Content-Type") != "application/json" {
		t.Errorf("history: %v, %d events, %s", err, len(hist.GetEvents()), w.Header().Get("Content-Type"))
	}

	// 1 -> sales_menu; reset to menu; 2 -> bye.
	do(http.MethodPost, "/simulate/"+id+"/input", http.StatusNoContent, map[string]any{"input": "1"})
	seen = waitFor(id, seen, designerapi.SimListen, "sales_menu")
	do(http.MethodPost, "/calls/"+id+"/reset", http.StatusUnprocessableEntity, map[string]any{"node": "bye"})
	do(http.MethodPost, "/calls/"+id+"/reset", http.StatusOK, map[string]any{"node": "menu"})
	seen = waitFor(id, seen, designerapi.SimListen, "menu")
	do(http.MethodPost, "/simulate/"+id+"/input", http.StatusNoContent, map[string]any{"input": "2"})
	waitFor(id, seen, designerapi.SimEnd, "")

	// The SSE stream replays the whole call and ends.
	w = do(http.MethodGet, "/simulate/"+id+"/events", http.StatusOK)
	body := w.Body.String()
	if !strings.Contains(body, "event: prompt") || !strings.Contains(body, `"kind":"end","outcome":"completed"`) {
		t.Fatalf("stream %s", body)
	}
	// The ended call: from the engine (query on a closed workflow) or its CDR.
	w = do(http.MethodGet, "/calls/"+id, http.StatusOK)
	_ = json.Unmarshal(w.Body.Bytes(), &d)
	if !d.Ended || d.Outcome != "completed" {
		t.Fatalf("ended call %+v", d)
	}

	// Terminate a second call; then it is not running.
	id2 := start()
	waitFor(id2, 0, designerapi.SimListen, "menu")
	do(http.MethodPost, "/calls/"+id2+"/terminate", http.StatusNoContent)
	waitFor(id2, 0, designerapi.SimEnd, "")
	do(http.MethodPost, "/calls/"+id2+"/terminate", http.StatusConflict)
	do(http.MethodPost, "/simulate/"+id2+"/input", http.StatusConflict, map[string]any{"input": "1"})

	do(http.MethodGet, "/calls/"+fmt.Sprint("no-such-call"), http.StatusNotFound)
	do(http.MethodPost, "/calls/no-such-call/replay", http.StatusNotFound)
}

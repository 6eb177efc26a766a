package designerapi

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/voxflow/voxflow/activities/records"
)

// TestSimulateAITurn: an intent node's turn reaches the event stream as an
// ai event carrying the turn as JSON, and does not move the call: it comes
// after the node (here while the call waits at the menu) and adds no node
// event, so the path the designer highlights stays the call's.
func TestSimulateAITurn(t *testing.T) {
	e := newEnv(t)
	w := e.do(RoleDesigner, http.MethodPost, Prefix+"/simulate", map[string]any{"source": flowSrc("ai")})
	e.expect(w, http.StatusCreated)
	st := decode[SimStarted](t, w)

	turn := records.AITurn{Utterance: "I want to pay my bill, account 4471", Intent: "billing", Confidence: 0.92,
		Slots: map[string]any{"account": "4471"}, Source: "offline"}
	text, err := json.Marshal(turn)
	if err != nil {
		t.Fatal(err)
	}
	e.sim.mu.Lock()
	emit := e.sim.emits[st.CallID]
	e.sim.mu.Unlock()
	emit(SimEvent{Kind: SimAI, Node: "understand", Text: string(text)})
	e.expect(e.do(RoleDesigner, http.MethodPost, Prefix+"/simulate/"+st.CallID+"/input", map[string]any{"input": "1"}), http.StatusNoContent)

	w = e.do(RoleDesigner, http.MethodGet, st.EventsURL)
	e.expect(w, http.StatusOK)
	evs := parseSSE(t, w.Body.String())
	var kinds []string
	var ai *SimEvent
	for i := range evs {
		kinds = append(kinds, evs[i].event+":"+evs[i].data.Node)
		if evs[i].event == SimAI {
			ai = &evs[i].data
		}
	}
	want := "node:hello,prompt:hello,node:menu,prompt:menu,listen:menu,ai:understand,input:menu,node:bye,hangup:bye,end:"
	if got := strings.Join(kinds, ","); got != want {
		t.Fatalf("events\n got %s\nwant %s", got, want)
	}
	var got records.AITurn
	if err := json.Unmarshal([]byte(ai.Text), &got); err != nil {
		t.Fatalf("ai text %q: %v", ai.Text, err)
	}
	if !reflect.DeepEqual(got, turn) {
		t.Errorf("ai turn %+v, want %+v", got, turn)
	}
	if end := evs[len(evs)-1].data; !reflect.DeepEqual(end.Path, []string{"hello", "menu", "bye"}) {
		t.Errorf("end path %v", end.Path)
	}
}

// TestOpenAPIListsAIKinds: clients generated from the OpenAPI document
// know the ai event and the intents and tools exits.
func TestOpenAPIListsAIKinds(t *testing.T) {
	b, err := OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					Enum []string `json:"enum"`
				} `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ schema, field, kind string }{
		{"SimEvent", "kind", SimAI},
		{"ExitFieldInfo", "kind", "intents"},
		{"ExitFieldInfo", "kind", "tools"},
	} {
		s, ok := doc.Components.Schemas[c.schema]
		if !ok {
			t.Errorf("no schema %s", c.schema)
			continue
		}
		if enum := s.Properties[c.field].Enum; !slices.Contains(enum, c.kind) {
			t.Errorf("%s.%s enum %v lacks %q", c.schema, c.field, enum, c.kind)
		}
	}
}

package temporalops

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	designerapi "github.com/voxflow/voxflow/designer-api"
	"github.com/voxflow/voxflow/internal/devtemporal/devtemporaltest"
	"github.com/voxflow/voxflow/media/text"
	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/simulator"
)

// intentFlow asks what the caller wants; the offline matcher recognises
// billing with its account from the examples.
const intentFlow = `name: ai-sim
entry: understand
nodes:
  understand:
    type: intent
    prompt: In a few words, what are you calling about?
    intents:
      billing:
        examples: ["I want to pay my bill", "a question about my invoice"]
        slots:
          account: {type: digits, required: true, ask: "What is your account number?"}
        next: done
      agent:
        examples: ["I want to speak to a person"]
        next: done
    no_match: done
  done:
    type: hangup
    say: "Account {{ vars.account }}."
`

const billingUtterance = "I want to pay my bill, account 4471"

// startAISim runs the engine, the offline AI activities and a text
// channel on an in-process Temporal server.
func startAISim(t *testing.T) *simulator.Simulator {
	t.Helper()
	_, c := devtemporaltest.NewServer(t)
	ch := text.NewChannel("ai-sim", platform.HangupSignaler(c))
	ws, err := platform.StartWorkers(c, platform.Parts{Engine: true, Shared: platform.StorelessActivities(), Channels: []activities.Channel{ch}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ws.Stop)
	return simulator.New(c, ch)
}

// TestSimulatorReportsAITurns: the designer's simulator reports the intent
// node's turn as an ai event, after the caller's input and before the
// next node speaks, with the turn as JSON; `voxflow flows simulate`
// prints it as one line.
func TestSimulatorReportsAITurns(t *testing.T) {
	sim := startAISim(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	adapter := NewSimulator(sim, slog.New(slog.NewTextHandler(io.Discard, nil)))
	events := make(chan designerapi.SimEvent, 64)
	req := designerapi.SimRequest{CallID: platform.NewCallID(), Flow: activities.FlowSource{Name: "ai-sim", Source: intentFlow}}
	if err := adapter.Start(ctx, req, func(e designerapi.SimEvent) { events <- e }); err != nil {
		t.Fatal(err)
	}
	var kinds []string
	var ai []designerapi.SimEvent
	for done := false; !done; {
		select {
		case e := <-events:
			kinds = append(kinds, e.Kind+":"+e.Node)
			switch e.Kind {
			case designerapi.SimListen:
				if err := adapter.Send(ctx, req.CallID, billingUtterance); err != nil {
					t.Fatal(err)
				}
			case designerapi.SimAI:
				ai = append(ai, e)
			case designerapi.SimEnd:
				done = true
			}
		case <-ctx.Done():
			t.Fatalf("the call did not end; events %v", kinds)
		}
	}
	if got := strings.Join(kinds, ","); !strings.Contains(got, "input:understand,ai:understand,prompt:done") {
		t.Errorf("events %s: want the ai turn between the input and the next node", got)
	}
	if len(ai) != 1 {
		t.Fatalf("ai events %+v, want one", ai)
	}
	var turn records.AITurn
	if err := json.Unmarshal([]byte(ai[0].Text), &turn); err != nil {
		t.Fatalf("ai text %q: %v", ai[0].Text, err)
	}
	if turn.Intent != "billing" || turn.Slots["account"] != "4471" || turn.Source != activities.SourceOffline ||
		turn.Confidence <= 0 || turn.Confidence > 1 || !strings.Contains(turn.Utterance, "pay my bill") {
		t.Errorf("turn %+v", turn)
	}

	var out strings.Builder
	res, err := sim.Run(ctx, simulator.Request{Flow: req.Flow, Inputs: []string{billingUtterance}}, simulator.Transcript{Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "[understand] intent billing (") || !strings.Contains(out.String(), "offline) account=4471\n") {
		t.Errorf("transcript lacks the understand line:\n%s", out.String())
	}
	if res.Outcome != records.OutcomeCompleted {
		t.Errorf("outcome %s", res.Outcome)
	}
}

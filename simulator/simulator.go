// Package simulator runs a flow as a real CallWorkflow with the text
// channel in place of media: prompts are printed and inputs are typed or
// scripted. Business users use it to try flows before publishing them.
package simulator

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/flows"
	"github.com/voxflow/voxflow/flows/engine"
	"github.com/voxflow/voxflow/media/text"
	"github.com/voxflow/voxflow/platform"
)

// Request is one simulated call.
type Request struct {
	Flow     activities.FlowSource
	Subflows []activities.FlowSource
	From, To string
	// Vars override the flow's initial variables.
	Vars map[string]any
	// Inputs are the caller's actions in order (see text.ParseInput). When
	// nil, the simulator is interactive and reads a line from In at each turn.
	Inputs []string
	In     io.Reader
	// Out, when set, receives a live transcript.
	Out io.Writer
	// Outbound places the call to To instead of taking an inbound one.
	Outbound bool
}

// Result is what the call did.
type Result struct {
	CallID  string         `json:"call_id"`
	Path    []string       `json:"path"`
	Prompts []string       `json:"prompts"`
	Vars    map[string]any `json:"vars"`
	Outcome string         `json:"outcome"`
	Record  records.CDR    `json:"-"`
}

// Run places the call and waits for it to end.
func Run(ctx context.Context, c client.Client, ch *text.Channel, req Request) (*Result, error) {
	callID := platform.NewCallID()
	var script []text.Input
	if req.Inputs != nil {
		script = make([]text.Input, 0, len(req.Inputs))
		for _, s := range req.Inputs {
			script = append(script, text.ParseInput(s))
		}
	}
	sess := ch.Open(callID, script)
	defer ch.Close(callID)

	from, to := req.From, req.To
	if from == "" {
		from = "+15550100"
	}
	if to == "" {
		to = "simulator"
	}
	_, err := platform.StartCall(ctx, c, engine.CallInput{
		Call:       flows.CallInfo{ID: callID, From: from, To: to, Channel: "text", StartedAt: time.Now().UTC()},
		Flow:       req.Flow,
		Subflows:   req.Subflows,
		Vars:       req.Vars,
		MediaQueue: ch.Queue(),
		Outbound:   outbound(req, ch),
	})
	if err != nil {
		return nil, err
	}
	res := &Result{CallID: callID}
	var wg sync.WaitGroup
	wg.Add(1)
	stop := make(chan struct{})
	go func() {
		defer wg.Done()
		consume(sess, req, res, stop)
	}()
	var rec records.CDR
	err = platform.AwaitCall(ctx, c, callID, &rec)
	close(stop)
	wg.Wait()
	if err != nil {
		return nil, fmt.Errorf("simulated call %s: %w", callID, err)
	}
	res.Record = rec
	res.Outcome = rec.Outcome
	res.Vars = rec.Vars
	res.Path = make([]string, 0, len(rec.Path))
	for _, s := range rec.Path {
		res.Path = append(res.Path, s.Node)
	}
	if req.Out != nil {
		fmt.Fprintf(req.Out, "-- call ended: %s; path: %s\n", res.Outcome, strings.Join(res.Path, " > "))
	}
	return res, nil
}

// consume follows the session's events until the call is over, printing the
// transcript and, when interactive, feeding typed lines back as input.
func consume(sess *text.Session, req Request, res *Result, stop <-chan struct{}) {
	var lines *bufio.Scanner
	if req.Inputs == nil && req.In != nil {
		lines = bufio.NewScanner(req.In)
	}
	handle := func(e text.Event) {
		switch e.Kind {
		case text.EventPrompt:
			res.Prompts = append(res.Prompts, e.Text)
			printf(req.Out, "[%s] voxflow: %s\n", e.Node, e.Text)
		case text.EventListen:
			if lines == nil {
				return
			}
			printf(req.Out, "[%s] you (digits, words, empty for silence, 'hangup'): ", e.Node)
			line := ""
			if lines.Scan() {
				line = lines.Text()
			} else {
				line = "hangup"
			}
			_ = sess.Send(text.ParseInput(line))
		case text.EventInput:
			if lines == nil {
				printf(req.Out, "[%s] caller: %s\n", e.Node, e.Text)
			}
		case text.EventAnswered:
			printf(req.Out, "-- call to %s answered\n", e.Text)
		case text.EventTransfer:
			printf(req.Out, "[%s] transferred to %s\n", e.Node, e.Text)
		case text.EventRecord:
			printf(req.Out, "[%s] recorded %s\n", e.Node, e.Text)
		case text.EventHangup:
			if e.Text != "" {
				printf(req.Out, "-- voxflow hung up (%s)\n", e.Text)
			} else {
				printf(req.Out, "-- voxflow hung up\n")
			}
		}
	}
	for {
		select {
		case e := <-sess.Events():
			handle(e)
		case <-stop:
			for {
				select {
				case e := <-sess.Events():
					handle(e)
				default:
					return
				}
			}
		}
	}
}

func printf(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format, args...)
	}
}

// outbound makes the call an outbound one placed through the text channel.
func outbound(req Request, ch *text.Channel) *engine.Outbound {
	if !req.Outbound {
		return nil
	}
	return &engine.Outbound{To: req.To, From: req.From, MediaQueue: ch.Queue()}
}

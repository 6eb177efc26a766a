package simulator

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/voxflow/voxflow/activities/records"
)

// Result is what a call did.
type Result struct {
	CallID  string         `json:"call_id"`
	Path    []string       `json:"path"`
	Prompts []string       `json:"prompts"`
	Vars    map[string]any `json:"vars"`
	Outcome string         `json:"outcome"`
	Record  records.CDR    `json:"-"`
}

// Transcript is how Run talks to a person: a live transcript goes to Out
// and, with In and no script, each turn's input is a line read from In.
type Transcript struct {
	In  io.Reader
	Out io.Writer
}

// Run places the call and waits for it to end. With no script and t.In
// set it is interactive.
func (s *Simulator) Run(ctx context.Context, req Request, t Transcript) (*Result, error) {
	res := &Result{}
	var lines *bufio.Scanner
	if req.Inputs == nil && t.In != nil {
		lines = bufio.NewScanner(t.In)
	}
	var call *Call
	started := make(chan struct{})
	call, err := s.Start(ctx, req, func(e Event) {
		<-started // Send needs the call
		if e.Kind == EventPrompt {
			res.Prompts = append(res.Prompts, e.Text)
		}
		t.print(e, lines != nil)
		if e.Kind == EventListen && lines != nil {
			fmt.Fprintf(t.out(), "[%s] you (digits, words, empty for silence, 'hangup'): ", e.Node)
			line := "hangup"
			if lines.Scan() {
				line = lines.Text()
			}
			_ = call.Send(ctx, line)
		}
	})
	if err != nil {
		return nil, err
	}
	close(started)
	rec, err := call.Wait(ctx)
	if err != nil {
		return nil, err
	}
	res.CallID, res.Record, res.Outcome, res.Vars = call.ID, rec, rec.Outcome, rec.Vars
	res.Path = make([]string, 0, len(rec.Path))
	for _, s := range rec.Path {
		res.Path = append(res.Path, s.Node)
	}
	fmt.Fprintf(t.out(), "-- call ended: %s; path: %s\n", res.Outcome, strings.Join(res.Path, " > "))
	return res, nil
}

func (t Transcript) out() io.Writer {
	if t.Out == nil {
		return io.Discard
	}
	return t.Out
}

// print writes one event of the transcript.
func (t Transcript) print(e Event, interactive bool) {
	w := t.out()
	switch e.Kind {
	case EventPrompt:
		fmt.Fprintf(w, "[%s] voxflow: %s\n", e.Node, e.Text)
	case EventInput:
		if !interactive {
			fmt.Fprintf(w, "[%s] caller: %s\n", e.Node, e.Text)
		}
	case EventAI:
		if e.AI != nil {
			fmt.Fprintf(w, "[%s] %s\n", e.Node, DescribeAI(*e.AI))
		}
	case EventAnswered:
		fmt.Fprintf(w, "-- call to %s answered\n", e.Text)
	case EventTransfer:
		fmt.Fprintf(w, "[%s] transferred to %s\n", e.Node, e.Text)
	case EventRecord:
		fmt.Fprintf(w, "[%s] recorded %s\n", e.Node, e.Text)
	case EventHangup:
		if e.Text != "" {
			fmt.Fprintf(w, "-- voxflow hung up (%s)\n", e.Text)
		} else {
			fmt.Fprintf(w, "-- voxflow hung up\n")
		}
	}
}

// DescribeAI is one line of what an intent or llm node made of a turn:
// "intent billing (92%, offline) account=4471", "no intent (31%, llm)",
// "reply \"Your balance is ...\" (llm, gpt-4o)", "tool to_agent (llm)".
func DescribeAI(t records.AITurn) string {
	var b strings.Builder
	meta := []string{}
	switch {
	case t.Reply != "" || t.Tool != "":
		if t.Reply != "" {
			fmt.Fprintf(&b, "reply %q", t.Reply)
		}
		if t.Tool != "" {
			if b.Len() > 0 {
				b.WriteString(", ")
			}
			b.WriteString("tool " + t.Tool)
		}
	case t.Intent != "":
		b.WriteString("intent " + t.Intent)
		meta = append(meta, fmt.Sprintf("%d%%", int(math.Round(t.Confidence*100))))
	case t.Error != "":
		b.WriteString("no answer")
	default:
		b.WriteString("no intent")
		meta = append(meta, fmt.Sprintf("%d%%", int(math.Round(t.Confidence*100))))
	}
	for _, m := range []string{t.Source, t.Model} {
		if m != "" {
			meta = append(meta, m)
		}
	}
	if len(meta) > 0 {
		b.WriteString(" (" + strings.Join(meta, ", ") + ")")
	}
	for _, k := range slices.Sorted(maps.Keys(t.Slots)) {
		fmt.Fprintf(&b, " %s=%v", k, t.Slots[k])
	}
	if t.Error != "" {
		b.WriteString(": " + t.Error)
	}
	return b.String()
}

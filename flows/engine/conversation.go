package engine

import (
	"errors"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/activities/redact"
	"github.com/voxflow/voxflow/flows"
)

// The conversation of a call's AI nodes: what the flow said and what the
// caller said, redacted, kept for models (context) and for the call
// record (transcript).

// modelTurns bounds the conversation sent to a model.
const modelTurns = 30

// said notes the text prompts the caller heard, redacted (a prompt may
// read out a sensitive variable).
func (c *call) said(ps []activities.Prompt) {
	for _, p := range ps {
		if p.Text != "" {
			c.line(records.ChatFlow, c.redact(nil, p.Text))
		}
	}
}

// heard notes what the caller said; callers redact it first (with its
// question: redactAnswer).
func (c *call) heard(text string) {
	if text != "" {
		c.line(records.ChatCustomer, text)
	}
}

func (c *call) line(from, text string) {
	c.transcript = append(c.transcript, records.ChatLine{At: workflow.Now(c.ctx), From: from, Text: text})
}

// turns is the end of the conversation as models see it.
func (c *call) turns() []activities.Turn {
	all := c.turnsAll()
	return all[max(0, len(all)-modelTurns):]
}

// aiError is an AI activity's error as operators read it: the message of
// the application error, without the activity's wrapping.
func aiError(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Type() + ": " + app.Message()
	}
	return err.Error()
}

// noteAI adds an AI turn to the current path step.
func (c *call) noteAI(t records.AITurn) {
	if len(c.path) > 0 {
		s := &c.path[len(c.path)-1]
		s.AI = append(s.AI, t)
	}
}

// sensitive lists the variables marked sensitive in the call's flows.
func (c *call) sensitive(f *flows.Flow) []string {
	out := slices.Clone(c.flows[c.in.Flow.Name].Sensitive)
	if f != nil {
		out = append(out, f.Sensitive...)
	}
	return out
}

// redact masks card numbers, security codes and sensitive values in text.
func (c *call) redact(f *flows.Flow, text string) string {
	return redact.Text(text, redact.Secrets(c.stack[0].Vars, c.sensitive(f)))
}

// redactAnswer redacts what the caller said in answer to the flow's last
// line, read together with it: "three two one" is a security code after
// "what is the CVV on the back of your card?".
func (c *call) redactAnswer(f *flows.Flow, text string) string {
	var question string
	for i := len(c.transcript) - 1; i >= 0; i-- {
		if c.transcript[i].From == records.ChatFlow {
			question = strings.ReplaceAll(c.transcript[i].Text, "\n", " ")
			break
		}
	}
	if question == "" {
		return c.redact(f, text)
	}
	both := c.redact(f, question+"\n"+text)
	if i := strings.LastIndex(both, "\n"); i >= 0 {
		return both[i+1:]
	}
	return c.redact(f, text)
}

// redactedVars is the main flow's variables as operators and models see them.
func (c *call) redactedVars() map[string]any {
	return redact.Vars(c.stack[0].Vars, c.sensitive(nil))
}

// watchSentiment alerts supervisors, once a call, when a caller's turn is
// strongly negative.
func (c *call) watchSentiment(n *flows.Node, text string, sentiment float64) {
	if c.alerted || sentiment > alertSentiment {
		return
	}
	c.alerted = true
	in := activities.CallAlertInput{CallID: c.in.Call.ID, At: workflow.Now(c.ctx),
		Action: activities.AlertNegativeSentiment, Detail: n.ID + ": " + text}
	ctx := workflow.WithActivityOptions(c.ctx, workflow.ActivityOptions{
		TaskQueue: activities.SharedQueue, StartToCloseTimeout: 5 * time.Second, RetryPolicy: aiRetry,
	})
	if err := workflow.ExecuteActivity(ctx, activities.ActCallAlert, in).Get(ctx, nil); err != nil {
		workflow.GetLogger(c.ctx).Warn("call alert", "error", err)
	}
}

// summaryBudget bounds the post-call summary; the caller is gone by then.
const summaryBudget = 60 * time.Second

// summarize asks for the call's insights after it ended. A failure is
// kept in the insights: the call record is saved either way.
func (c *call) summarize(main *flows.Flow, rec records.CDR) *records.Insights {
	in := activities.SummarizeInput{CallID: rec.CallID, Flow: rec.Flow, Model: main.Settings.LLMModel,
		Outcome: rec.Outcome, Vars: rec.Vars, Dispositions: main.Settings.Dispositions}
	for _, s := range rec.Path {
		in.Path = append(in.Path, s.Node)
	}
	in.Transcript = c.turnsAll()
	ctx := workflow.WithActivityOptions(disconnected(c.ctx), workflow.ActivityOptions{
		TaskQueue: activities.SharedQueue, StartToCloseTimeout: summaryBudget, RetryPolicy: aiRetry,
	})
	var ins records.Insights
	if err := workflow.ExecuteActivity(ctx, activities.ActSummarize, in).Get(ctx, &ins); err != nil {
		workflow.GetLogger(c.ctx).Warn("call summary", "error", err)
		ins.Error = aiError(err)
	}
	return &ins
}

// turnsAll is the whole conversation as models see it.
func (c *call) turnsAll() []activities.Turn {
	out := make([]activities.Turn, 0, len(c.transcript))
	for _, l := range c.transcript {
		from := activities.TurnFlow
		if l.From == records.ChatCustomer {
			from = activities.TurnCaller
		}
		out = append(out, activities.Turn{From: from, Text: l.Text})
	}
	return out
}

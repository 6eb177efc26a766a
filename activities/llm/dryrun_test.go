package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/llm/llmtest"
)

func TestDryRunGolden(t *testing.T) {
	cfg := Config{Model: "gpt-4o-mini", SummaryModel: "gpt-4o"}
	chat := chatInput()
	cases := []struct {
		name string
		in   any
	}{
		{"dryrun_intent.json", bookingInput()},
		{"dryrun_chat.json", &chat},
		{"dryrun_summary.json", summarizeInput()},
	}
	for _, tc := range cases {
		body, err := DryRun(cfg, tc.in)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, body, "", "  "); err != nil {
			t.Fatalf("%s: not JSON: %v", tc.name, err)
		}
		pretty.WriteByte('\n')
		golden(t, tc.name, pretty.Bytes())
	}
	if _, err := DryRun(cfg, "hello"); err == nil {
		t.Error("DryRun of a string: no error")
	}
	if _, err := DryRun(Config{JSONMode: "x"}, bookingInput()); err == nil {
		t.Error("DryRun with a bad config: no error")
	}
}

// TestDryRunIsTheBodySent: what DryRun shows is byte for byte what the
// client posts.
func TestDryRunIsTheBodySent(t *testing.T) {
	for _, mode := range []string{JSONSchema, JSONTool, JSONObject} {
		srv := llmtest.NewServer(t)
		srv.Enqueue(llmtest.Text("{}"), llmtest.Text("ok"), llmtest.Text("{}"))
		c, _ := newTestClient(t, srv, func(cfg *Config) { cfg.JSONMode = mode })
		ctx := context.Background()
		_, _ = c.Intent(ctx, bookingInput())
		_, _ = c.Chat(ctx, chatInput())
		_, _ = c.Summarize(ctx, summarizeInput())
		reqs := srv.Requests()
		for i, in := range []any{bookingInput(), chatInput(), summarizeInput()} {
			want, err := DryRun(c.Config(), in)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(reqs[i].Body, want) {
				t.Errorf("%s: request %d body\n%s\ndiffers from DryRun's\n%s", mode, i, reqs[i].Body, want)
			}
		}
	}
}

func TestDryRunNeedsNoKeyOrEndpoint(t *testing.T) {
	body, err := DryRun(Config{}, activities.ChatInput{Messages: []activities.ChatMessage{{Role: "user", Content: "hi"}}})
	if err != nil || !bytes.Contains(body, []byte(`"model":"`+DefaultModel+`"`)) {
		t.Errorf("DryRun = %s, %v", body, err)
	}
}

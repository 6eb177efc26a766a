package llm

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/llm/llmtest"
)

func TestIntentAsksWithSchemaAndTranscript(t *testing.T) {
	srv := llmtest.NewServer(t)
	srv.Enqueue(llmtest.Recorded("intent_answer"))
	c, _ := newTestClient(t, srv, func(cfg *Config) { cfg.IntentModel = "intent-model" })

	got, err := c.Intent(context.Background(), bookingInput())
	if err != nil {
		t.Fatalf("Intent: %v", err)
	}
	want := activities.IntentResult{
		Intent: "book_appointment", Confidence: 0.93, Sentiment: 0.2,
		Slots:  map[string]any{"date": "2026-01-02", "time": "15:00", "reason": "a cleaning"},
		Source: activities.SourceLLM, Model: "intent-model",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("result\n got %+v\nwant %+v", got, want)
	}

	req := srv.Last()
	if req.Model != "intent-model" {
		t.Errorf("model = %q, want the intent model", req.Model)
	}
	if req.Authorization() != "Bearer "+testKey {
		t.Errorf("Authorization = %q", req.Authorization())
	}
	if req.ResponseFormat == nil || req.ResponseFormat.Type != "json_schema" || !req.ResponseFormat.JSONSchema.Strict {
		t.Fatalf("response_format = %+v, want a strict json_schema", req.ResponseFormat)
	}
	if got, want := req.Enum("intent"), []string{"book_appointment", "cancel_appointment", "pay", "none"}; !slices.Equal(got, want) {
		t.Errorf("intent enum = %q, want %q", got, want)
	}
	slots := req.Schema()["properties"].(map[string]any)["slots"].(map[string]any)
	var slotNames []string
	for name := range slots["properties"].(map[string]any) {
		slotNames = append(slotNames, name)
	}
	slices.Sort(slotNames)
	if want := []string{"amount", "booking_ref", "date", "method", "party_size", "reason", "time"}; !slices.Equal(slotNames, want) {
		t.Errorf("slot properties = %q, want every intent's slots %q", slotNames, want)
	}
	wantRoles := []string{"system", "assistant", "user", "assistant", "user"}
	var roles []string
	for _, m := range req.Messages {
		roles = append(roles, m.Role)
	}
	if !slices.Equal(roles, wantRoles) {
		t.Errorf("roles = %q, want %q", roles, wantRoles)
	}
	if req.Messages[2].Content != "Hi, it's about my teeth" || req.LastUser() != "I'd like a cleaning tomorrow at three" {
		t.Errorf("messages do not carry the transcript then the utterance: %+v", req.Messages)
	}
	for _, s := range []string{"Thursday 2026-01-01, 10:00 in time zone Europe/London", "book_appointment: Book a visit",
		`"can I book a cleaning"`, "Slot method (enum: card, bank transfer)", "The caller speaks en-GB"} {
		if !strings.Contains(req.System(), s) {
			t.Errorf("system message lacks %q:\n%s", s, req.System())
		}
	}
}

func TestIntentFollowUpTurn(t *testing.T) {
	srv := llmtest.NewServer(t)
	srv.Enqueue(llmtest.JSON(llmtest.IntentAnswer("book_appointment", 0.8,
		map[string]any{"date": "tomorrow", "time": "teatime", "party_size": "2", "booking_ref": "12345"}, 0)))
	c, _ := newTestClient(t, srv, nil)
	var parsed []string
	c.parseSlot = func(typ, text string, _ []string, now time.Time, loc *time.Location) (any, bool) {
		parsed = append(parsed, typ+":"+text)
		if typ == activities.SlotDate && text == "tomorrow" {
			return now.AddDate(0, 0, 1).Format(time.DateOnly), loc.String() == "Europe/London"
		}
		return nil, false
	}
	in := bookingInput()
	in.Intent, in.Want, in.Utterance = "book_appointment", []string{"date", "time"}, "tomorrow around teatime"

	got, err := c.Intent(context.Background(), in)
	if err != nil {
		t.Fatalf("Intent: %v", err)
	}
	// booking_ref is not a slot of book_appointment: dropped; "teatime"
	// does not parse: dropped; "2" is already a number.
	want := map[string]any{"date": "2026-01-02", "party_size": 2}
	if !reflect.DeepEqual(got.Slots, want) {
		t.Errorf("slots = %v, want %v", got.Slots, want)
	}
	if !slices.Equal(parsed, []string{"date:tomorrow", "time:teatime"}) {
		t.Errorf("slot parser saw %q", parsed)
	}
	sys := srv.Last().System()
	if !strings.Contains(sys, `the caller already chose "book_appointment" and was just asked for date, time`) {
		t.Errorf("system message does not describe the follow-up:\n%s", sys)
	}
}

func TestIntentNoneIsNoIntent(t *testing.T) {
	srv := llmtest.NewServer(t)
	srv.Enqueue(llmtest.JSON(llmtest.IntentAnswer("none", 0.4, map[string]any{"date": "2026-01-05"}, -0.6)))
	c, _ := newTestClient(t, srv, nil)
	got, err := c.Intent(context.Background(), bookingInput())
	if err != nil {
		t.Fatalf("Intent: %v", err)
	}
	if got.Intent != "" || got.Slots != nil || got.Sentiment != -0.6 || got.Source != activities.SourceLLM {
		t.Errorf("got %+v, want no intent, no slots, sentiment -0.6", got)
	}
}

func TestSlotNormalisation(t *testing.T) {
	c := &Client{parseSlot: func(string, string, []string, time.Time, *time.Location) (any, bool) { return nil, false }}
	cases := []struct {
		def  activities.SlotDef
		in   any
		want any // nil: dropped
	}{
		{activities.SlotDef{Type: activities.SlotNumber}, 12.5, 12.5},
		{activities.SlotDef{Type: activities.SlotNumber}, "3", 3},
		{activities.SlotDef{Type: activities.SlotNumber}, 4.0, 4},
		{activities.SlotDef{Type: activities.SlotNumber}, "NaN", nil},
		{activities.SlotDef{Type: activities.SlotDigits}, "4471", "4471"},
		{activities.SlotDef{Type: activities.SlotDigits}, 4471.0, "4471"},
		{activities.SlotDef{Type: activities.SlotDigits}, "44-71", nil},
		{activities.SlotDef{Type: activities.SlotDate}, "2026-05-03", "2026-05-03"},
		{activities.SlotDef{Type: activities.SlotDate}, "2026-02-30", nil},
		{activities.SlotDef{Type: activities.SlotTime}, "14:30", "14:30"},
		{activities.SlotDef{Type: activities.SlotTime}, "2:30", nil},
		{activities.SlotDef{Type: activities.SlotMoney}, "12.5", "12.50"},
		{activities.SlotDef{Type: activities.SlotMoney}, 7.0, "7.00"},
		{activities.SlotDef{Type: activities.SlotEnum, Values: []string{"bank transfer"}}, "Bank Transfer", "bank transfer"},
		{activities.SlotDef{Type: activities.SlotEnum, Values: []string{"card"}}, "cash", nil},
		{activities.SlotDef{Type: activities.SlotText}, "  a cleaning ", "a cleaning"},
		{activities.SlotDef{Type: activities.SlotText}, "", nil},
		{activities.SlotDef{Type: activities.SlotText}, true, nil},
		{activities.SlotDef{Type: activities.SlotText}, nil, nil},
	}
	for _, tc := range cases {
		got, ok := c.normaliseSlot(tc.def, tc.in, time.Time{}, time.UTC)
		if !ok {
			got = nil
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s %#v -> %#v, want %#v", tc.def.Type, tc.in, got, tc.want)
		}
	}
}

func TestIntentBadOutput(t *testing.T) {
	cases := []struct {
		name  string
		reply llmtest.Reply
		msg   string
	}{
		{"malformed JSON", llmtest.Text(`{"intent": "book_appointment", "confidence": 0.9`), "not valid JSON"},
		{"undeclared intent", llmtest.JSON(llmtest.IntentAnswer("order_pizza", 0.9, nil, 0)), `intent "order_pizza", which node ask_reason does not declare`},
		{"no intent", llmtest.JSON(map[string]any{"confidence": 1}), "no intent"},
		{"wrong types", llmtest.Text(`{"intent": 3}`), "does not match the intent schema"},
		{"cut off", llmtest.Reply{Message: &llmtest.Message{Content: `{"intent":"pay"}`}, FinishReason: "length"}, "cut off"},
		{"empty answer", llmtest.Reply{Message: &llmtest.Message{Content: ""}}, "not valid JSON"},
		{"refusal", llmtest.Reply{Message: &llmtest.Message{Refusal: "I can't help with that."}}, "model refused: I can't help with that."},
		{"body not a completion", llmtest.Raw(200, "<html>upstream proxy</html>"), "no chat completion"},
		{"no choices", llmtest.Raw(200, `{"id":"x","object":"chat.completion","choices":[]}`), "no choices"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := llmtest.NewServer(t)
			srv.Enqueue(tc.reply)
			c, _ := newTestClient(t, srv, nil)
			_, err := c.Intent(context.Background(), bookingInput())
			wantErrType(t, err, activities.ErrTypeAIBadOutput)
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q lacks %q", err, tc.msg)
			}
			if srv.Count() != 1 {
				t.Errorf("server saw %d requests, want 1: bad output is not retried", srv.Count())
			}
			if c.Stats().BadOutput != 1 {
				t.Errorf("BadOutput = %d, want 1", c.Stats().BadOutput)
			}
		})
	}
}

func TestIntentWithoutIntentsIsBadInput(t *testing.T) {
	srv := llmtest.NewServer(t)
	c, _ := newTestClient(t, srv, nil)
	in := bookingInput()
	in.Intents = nil
	_, err := c.Intent(context.Background(), in)
	wantErrType(t, err, activities.ErrTypeBadInput)
	if srv.Count() != 0 {
		t.Errorf("server saw %d requests, want none", srv.Count())
	}
}

func TestJSONModes(t *testing.T) {
	cases := []struct {
		mode  string
		check func(t *testing.T, req llmtest.Request)
	}{
		{JSONTool, func(t *testing.T, req llmtest.Request) {
			if req.ForcedTool() != intentSchemaName || req.ResponseFormat != nil || len(req.Tools) != 1 || !req.Tools[0].Function.Strict {
				t.Errorf("want one strict forced tool %q and no response_format, got tools %+v choice %s", intentSchemaName, req.Tools, req.ToolChoice)
			}
		}},
		{JSONObject, func(t *testing.T, req llmtest.Request) {
			if req.ResponseFormat == nil || req.ResponseFormat.Type != "json_object" || len(req.Tools) != 0 {
				t.Errorf("want response_format json_object, got %+v", req.ResponseFormat)
			}
			if !strings.Contains(req.System(), `matches this JSON Schema:`) || !strings.Contains(req.System(), `"cancel_appointment"`) {
				t.Errorf("system message lacks the schema:\n%s", req.System())
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.mode, func(t *testing.T) {
			srv := llmtest.NewServer(t, llmtest.WithResponder(func(req llmtest.Request) llmtest.Reply {
				r := llmtest.Structured(req, llmtest.IntentAnswer("pay", 0.7, map[string]any{"amount": "12.5", "method": "card"}, 0))
				if tc.mode == JSONObject { // some local models fence JSON
					r.Message.Content = "```json\n" + r.Message.Content + "\n```"
				}
				return r
			}, 0))
			c, _ := newTestClient(t, srv, func(cfg *Config) { cfg.JSONMode = tc.mode })
			got, err := c.Intent(context.Background(), bookingInput())
			if err != nil {
				t.Fatalf("Intent: %v", err)
			}
			if want := map[string]any{"amount": "12.50", "method": "card"}; got.Intent != "pay" || !reflect.DeepEqual(got.Slots, want) {
				t.Errorf("got %+v", got)
			}
			tc.check(t, srv.Last())
		})
	}
}

func FuzzReadIntent(f *testing.F) {
	f.Add(`{"intent":"pay","confidence":0.5,"slots":{"amount":"3","method":"card"},"sentiment":0}`)
	f.Add(`{"intent":"none"}`)
	f.Add(`{"intent":"book_appointment","slots":{"date":12,"time":"99:99","party_size":"1e400"}}`)
	f.Add(`{"intent":null,"confidence":"x"}`)
	c := &Client{parseSlot: func(string, string, []string, time.Time, *time.Location) (any, bool) { return "x", true }}
	in := bookingInput()
	f.Fuzz(func(t *testing.T, answer string) {
		got, err := c.readIntent([]byte(answer), in)
		if err != nil {
			if errType(err) != activities.ErrTypeAIBadOutput {
				t.Fatalf("error of type %q: %v", errType(err), err)
			}
			return
		}
		if got.Confidence < 0 || got.Confidence > 1 || got.Sentiment < -1 || got.Sentiment > 1 {
			t.Fatalf("out of range: %+v", got)
		}
		declared := got.Intent == ""
		for _, it := range in.Intents {
			declared = declared || it.Name == got.Intent
		}
		if !declared {
			t.Fatalf("undeclared intent %q returned", got.Intent)
		}
		if _, err := json.Marshal(got); err != nil {
			t.Fatalf("result does not marshal: %v", err)
		}
	})
}

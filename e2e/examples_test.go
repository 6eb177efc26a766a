package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/simulator"
)

// Hours substitutions that make the support line's hours node decide the
// same whatever day the test runs.
var (
	alwaysOpen   = []string{`mon-fri: ["08:00-20:00"]`, `daily: ["00:00-24:00"]`}
	alwaysClosed = []string{`mon-fri: ["08:00-20:00"]`, `mon: ["00:00-00:01"]`, `sat: ["09:00-13:00"]`, `sun: ["00:00-00:01"]`}
)

func TestExamplesSimulated(t *testing.T) {
	s := newStack(t)
	verifyPin := example(t, "verify-pin")
	tests := []struct {
		name     string
		flow     activities.FlowSource
		subflows []activities.FlowSource
		from, to string
		inputs   []string
		path     string
		outcome  string
		vars     map[string]any
		prompt   string // a prompt that must have been said
	}{
		{
			name: "support line: standard caller picks billing, nobody free, voicemail",
			flow: example(t, "support-line", alwaysOpen...), from: "+15550102", inputs: []string{"2"},
			path:    "welcome>office_hours>lookup>vip_check>main_menu>to_billing>agent_queue>voicemail>goodbye>wrap_up",
			outcome: records.OutcomeCompleted,
			vars:    map[string]any{"customer_name": "Grace Hopper", "department": "billing", "tier": "standard"},
			prompt:  "Hello Grace Hopper. For sales press 1",
		},
		{
			// A simulated call's queue is never staffed: the campaign's
			// fallback when no agent is free.
			name: "sales campaign: nobody free, the person is told they will be called again",
			flow: example(t, "sales-campaign"), from: "+15550100", to: "+14155550101",
			path:    "connect>later>sorry",
			outcome: records.OutcomeCompleted,
			vars:    map[string]any{"disposition": "no agent"},
			prompt:  "Sorry, all our advisers are busy. We will call you again soon.",
		},
		{
			name: "agent desk: bridged to the agent, then rates the call",
			flow: example(t, "agent-desk"), from: "+15550102", inputs: []string{"1"},
			path:    "connect>rate>happy>goodbye",
			outcome: records.OutcomeCompleted,
			vars:    map[string]any{"rating": "good"},
			prompt:  "Connecting you to an agent.",
		},
		{
			name: "support line: speech and retries",
			flow: example(t, "support-line", alwaysOpen...), from: "+15550102", inputs: []string{"", "7", "technical help please"},
			path:    "welcome>office_hours>lookup>vip_check>main_menu>to_support>agent_queue>voicemail>goodbye>wrap_up",
			outcome: records.OutcomeCompleted,
			vars:    map[string]any{"department": "support"},
			prompt:  "Sorry, that is not a valid choice.",
		},
		{
			name: "support line: gold caller goes to the VIP queue",
			flow: example(t, "support-line", alwaysOpen...), from: "+15550100",
			path:    "welcome>office_hours>lookup>vip_check>vip_greeting>vip_queue>voicemail>goodbye>wrap_up",
			outcome: records.OutcomeCompleted,
			vars:    map[string]any{"tier": "gold", "department": "none"},
			prompt:  "Welcome back Ada Lovelace. As a gold member you go straight to our priority team.",
		},
		{
			name: "support line: unknown caller skips the CRM data",
			flow: example(t, "support-line", alwaysOpen...), from: "+19990000", inputs: []string{"1"},
			path:    "welcome>office_hours>lookup>main_menu>to_sales>agent_queue>voicemail>goodbye>wrap_up",
			outcome: records.OutcomeCompleted,
			vars:    map[string]any{"department": "sales", "customer_name": ""},
		},
		{
			name: "billing line: a payment with the account in the sentence",
			flow: example(t, "billing-line"), from: "+15550101", inputs: []string{"I want to pay my bill for account 101"},
			path:    "understand>payment_link>goodbye",
			outcome: records.OutcomeCompleted,
			vars:    map[string]any{"account": "101"},
			prompt:  "Thank you. We are sending a secure payment link for account 101 to your phone now.",
		},
		{
			name: "billing line: balance, account asked for and keyed in",
			flow: example(t, "billing-line"), from: "+15550101", inputs: []string{"how much do I owe", "101#"},
			path:    "understand>balance_lookup>read_balance>goodbye",
			outcome: records.OutcomeCompleted,
			vars:    map[string]any{"account": "101", "balance": 42.0},
			prompt:  "The balance of account 101 is 42 dollars.",
		},
		{
			name: "billing line: not understood twice, then the menu",
			flow: example(t, "billing-line"), from: "+15550101", inputs: []string{"hello there", "blue sky", "2", "102#"},
			path:    "understand>menu>balance_keys>balance_lookup>read_balance>goodbye",
			outcome: records.OutcomeCompleted,
			vars:    map[string]any{"account": "102"},
			prompt:  "Sorry, I did not catch that.",
		},
		{
			name: "bank: PIN verified, balance read, caller ends",
			flow: example(t, "bank-ivr"), subflows: []activities.FlowSource{verifyPin}, from: "+15550100", inputs: []string{"1234#", "9"},
			path:    "identify>verify>ask_pin>check_pin>count>result>done>verified_check>balance_lookup>read_balance>options>goodbye",
			outcome: records.OutcomeCompleted,
			vars:    map[string]any{"verified": true, "balance": 1234.56, "account": "ACC-100"},
			prompt:  "Thank you Ada Lovelace. Your balance is 1234.56 dollars.",
		},
		{
			name: "bank: three wrong PINs lock the caller out",
			flow: example(t, "bank-ivr"), subflows: []activities.FlowSource{verifyPin}, from: "+15550101",
			inputs:  []string{"1111#", "2222#", "3333#"},
			path:    "identify>verify>ask_pin>check_pin>count>result>wrong_pin>ask_pin>check_pin>count>result>wrong_pin>ask_pin>check_pin>count>result>done>verified_check>locked_out",
			outcome: records.OutcomeCompleted,
			vars:    map[string]any{"verified": false},
			prompt:  "We could not verify your PIN. For your security this call will end.",
		},
		{
			name: "appointment reminder: confirm",
			flow: example(t, "appointment-reminder"), from: "1000", to: "+15550100", inputs: []string{"1"},
			path:    "load>remind>confirm>confirmed",
			outcome: records.OutcomeCompleted,
			vars:    map[string]any{"status": "confirmed", "appointment_id": "APT-1"},
			prompt:  "Hello, this is a reminder of your appointment on Monday at 10 AM.",
		},
		{
			name: "appointment reminder: reschedule transfers the call",
			flow: example(t, "appointment-reminder"), from: "1000", to: "+15550102", inputs: []string{"say:I need to reschedule"},
			path:    "load>remind>reschedule",
			outcome: records.OutcomeTransferred,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inputs := tt.inputs
			if inputs == nil {
				inputs = []string{}
			}
			res := s.simulate(simulator.Request{Flow: tt.flow, Subflows: tt.subflows, From: tt.from, To: tt.to, Inputs: inputs})
			if got := strings.Join(res.Path, ">"); got != tt.path {
				t.Errorf("path\n got %s\nwant %s", got, tt.path)
				for _, st := range res.Record.Path {
					t.Logf("%s: input %q outcome %s ai %+v", st.Node, st.Input, st.Outcome, st.AI)
				}
			}
			if res.Outcome != tt.outcome {
				t.Errorf("outcome = %s, want %s", res.Outcome, tt.outcome)
			}
			for k, want := range tt.vars {
				if res.Vars[k] != want {
					t.Errorf("vars.%s = %#v, want %#v", k, res.Vars[k], want)
				}
			}
			if tt.prompt != "" && !containsPrefix(res.Prompts, tt.prompt) {
				t.Errorf("no prompt starting %q in %q", tt.prompt, res.Prompts)
			}
			// The call record is in the store with the same path.
			rec, err := s.store.CDR(context.Background(), res.CallID)
			if err != nil {
				t.Fatalf("call record: %v", err)
			}
			if len(rec.Path) != len(res.Path) || rec.Outcome != tt.outcome || rec.Flow != tt.flow.Name {
				t.Errorf("stored record: flow %s outcome %s, %d steps", rec.Flow, rec.Outcome, len(rec.Path))
			}
		})
	}
}

func containsPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

func TestSupportLineClosed(t *testing.T) {
	s := newStack(t)
	res := s.simulate(simulator.Request{Flow: example(t, "support-line", alwaysClosed...), From: "+15550102", Inputs: []string{}})
	if got := strings.Join(res.Path, ">"); got != "welcome>office_hours>after_hours>voicemail>goodbye>wrap_up" {
		t.Errorf("path = %s", got)
	}
	if res.Vars["voicemail"] != "text://"+res.CallID+"/voicemail" {
		t.Errorf("voicemail = %v", res.Vars["voicemail"])
	}
}

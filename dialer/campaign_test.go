package dialer

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities/records"
)

func TestWithDefaults(t *testing.T) {
	got := WithDefaults(records.Campaign{Mode: records.PaceAgentless})
	want := records.Campaign{
		Mode: records.PaceAgentless, Window: records.Window{Start: "08:00", End: "21:00"},
		MaxAttempts: 3, MinSpacing: 10 * time.Minute, Retry: DefaultRetry, RingTimeout: 25 * time.Second,
		Machine: records.MachineHangUp, AbandonCap: 0.03, MaxRatio: 3, Concurrency: 5, State: records.CampaignDraft,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("WithDefaults = %+v\nwant %+v", got, want)
	}
	// Set values stay, even wrong ones (Validate reports them).
	set := records.Campaign{Mode: records.PacePredictive, Window: records.Window{Start: "09:00", End: "25:00"},
		MaxAttempts: -1, MinSpacing: time.Hour, Retry: []records.RetryRule{{Outcome: "busy", Delay: time.Minute, Max: 1}},
		RingTimeout: 40 * time.Second, Machine: records.MachineFlow, AbandonCap: 0.02, MaxRatio: 2, Region: "GB",
		State: records.CampaignRunning}
	if got := WithDefaults(set); !reflect.DeepEqual(got, set) {
		t.Errorf("WithDefaults changed set values: %+v", got)
	}
	if got := WithDefaults(records.Campaign{Mode: records.PacePredictive}); got.Concurrency != 0 || got.Region != "" {
		t.Errorf("predictive: concurrency %d, region %q; want 0 and no region guessed", got.Concurrency, got.Region)
	}
	// The defaults are a copy: changing them does not change DefaultRetry.
	WithDefaults(records.Campaign{}).Retry[0].Max = 99
	if DefaultRetry[0].Max == 99 {
		t.Error("WithDefaults shares DefaultRetry's array")
	}
}

func validCampaign() records.Campaign {
	return WithDefaults(records.Campaign{ID: "spring-reminders", Name: "Spring reminders", Flow: "reminder",
		Mode: records.PacePredictive, Queue: "sales", CallerID: "+14155550100", Region: "US"})
}

func TestValidateAccepts(t *testing.T) {
	for _, c := range []func(*records.Campaign){
		func(*records.Campaign) {},
		func(c *records.Campaign) { c.Mode, c.Queue, c.Concurrency = records.PaceAgentless, "", 10 },
		func(c *records.Campaign) { c.Mode = records.PacePreview },
		func(c *records.Campaign) { c.CallerID = "sip:reminders@example.com" },
		func(c *records.Campaign) { c.CallerID = "" },
		func(c *records.Campaign) { c.Machine, c.MachineText = records.MachineMessage, "Hello from the clinic." },
		func(c *records.Campaign) { c.AbandonCap = 1 },
		func(c *records.Campaign) { c.Region = "gb" },
		func(c *records.Campaign) { c.ID = "Q3_renewals.v2" },
	} {
		camp := validCampaign()
		c(&camp)
		if err := Validate(camp); err != nil {
			t.Errorf("Validate(%+v) = %v, want nil", camp, err)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		change func(*records.Campaign)
		want   string
	}{
		{func(c *records.Campaign) { c.ID = "" }, "id: empty"},
		{func(c *records.Campaign) { c.ID = "spring reminders" }, `id "spring reminders": not a slug`},
		{func(c *records.Campaign) { c.ID = "-x" }, `id "-x": not a slug`},
		{func(c *records.Campaign) { c.Name = " " }, "name: empty"},
		{func(c *records.Campaign) { c.Flow = "" }, "flow: empty"},
		{func(c *records.Campaign) { c.Mode = "" }, "mode: empty: one of preview, progressive, predictive, agentless"},
		{func(c *records.Campaign) { c.Mode = "predictiv" }, `mode "predictiv": unknown mode: one of preview, progressive, predictive, agentless; did you mean "predictive"?`},
		{func(c *records.Campaign) { c.Queue = "" }, "queue: empty: a predictive campaign needs a queue of agents"},
		{func(c *records.Campaign) { c.Mode, c.Queue = records.PaceProgressive, "" }, "a progressive campaign needs a queue of agents"},
		{func(c *records.Campaign) { c.Mode, c.Concurrency = records.PaceAgentless, 0 }, `concurrency "0": an agentless campaign needs at least 1 line at once`},
		{func(c *records.Campaign) { c.Window = records.Window{Start: "21:00", End: "08:00"} }, "window: empty (start 21:00 is not before end 08:00)"},
		{func(c *records.Campaign) { c.Window.Start = "25:00" }, `window.start "25:00": not a time of day (HH:MM)`},
		{func(c *records.Campaign) { c.CallerID = "415-555-0100" }, `caller_id "415-555-0100": not an E.164 number`},
		{func(c *records.Campaign) { c.CallerID = "+1 415 555 0100" }, `caller_id "+1 415 555 0100": write it in E.164: +14155550100`},
		{func(c *records.Campaign) { c.CallerID = "sip:" }, `caller_id "sip:": not a SIP URI`},
		{func(c *records.Campaign) { c.CallerID = "sip:@host" }, `not a SIP URI`},
		{func(c *records.Campaign) { c.Machine = "hangpu" }, `machine "hangpu": unknown action: one of hangup, message, flow; did you mean "hangup"?`},
		{func(c *records.Campaign) { c.Machine = "" }, `machine: empty`},
		{func(c *records.Campaign) { c.Machine = records.MachineMessage }, "machine_text: empty: a campaign that leaves messages needs their text"},
		{func(c *records.Campaign) { c.AbandonCap = 0 }, `abandon_cap "0": must be above 0 and at most 1`},
		{func(c *records.Campaign) { c.AbandonCap = 3 }, `abandon_cap "3": must be above 0 and at most 1 (0.03 is 3%)`},
		{func(c *records.Campaign) { c.AbandonCap = -0.1 }, `abandon_cap "-0.1"`},
		{func(c *records.Campaign) { c.MaxAttempts = 0 }, `max_attempts "0": must be at least 1`},
		{func(c *records.Campaign) { c.MinSpacing = -time.Minute }, `min_spacing "-1m0s": negative`},
		{func(c *records.Campaign) { c.RatePerMinute = -1 }, `rate_per_minute "-1": negative`},
		{func(c *records.Campaign) { c.MaxRatio = 0.5 }, `max_ratio "0.5": a predictive campaign dials at least 1 line per available agent`},
		{func(c *records.Campaign) { c.Retry = append(c.Retry, records.RetryRule{Outcome: "buzy", Max: 1}) },
			`retry[5].outcome "buzy": unknown outcome: one of busy, no_answer, answered_machine, failed, abandoned; did you mean "busy"?`},
		{func(c *records.Campaign) { c.Retry[1].Delay = -time.Hour }, `retry[1].delay "-1h0m0s": negative`},
		{func(c *records.Campaign) { c.Retry[1].Max = -1 }, `retry[1].max "-1": negative`},
		{func(c *records.Campaign) {
			c.Retry = append(c.Retry, records.RetryRule{Outcome: records.AttemptBusy, Max: 1})
		},
			`retry[5].outcome "busy": a second rule for it (retry[0] applies)`},
		{func(c *records.Campaign) { c.Retry[0].Outcome = records.AttemptHuman },
			`retry[0].outcome "answered_human": this outcome ends the contact; it is never retried`},
		{func(c *records.Campaign) { c.Region = "XX" }, `region "XX": not a country code (ISO 3166 alpha-2, like US or GB)`},
		{func(c *records.Campaign) { c.Required = []string{"name", " "} }, `required[1]: empty column name`},
	} {
		camp := validCampaign()
		c.change(&camp)
		err := Validate(camp)
		var fe FieldErrors
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Validate: %v\nwant it to say %s", err, c.want)
		}
	}
}

// Every problem is reported, one per line, in the order of the fields.
func TestValidateListsAll(t *testing.T) {
	err := Validate(records.Campaign{ID: "a b", Mode: "predictive", Window: records.Window{Start: "9"},
		AbandonCap: 0.03, MaxAttempts: 1, Machine: "hangup"})
	want := strings.Join([]string{
		`id "a b": not a slug: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
		`name: empty`,
		`flow: empty: name the published flow each answered call runs`,
		`queue: empty: a predictive campaign needs a queue of agents`,
		`window.start "9": not a time of day (HH:MM)`,
		`max_ratio "0": a predictive campaign dials at least 1 line per available agent`,
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("Validate =\n%v\nwant\n%s", err, want)
	}
	if len(err.(FieldErrors)) != 6 {
		t.Errorf("%d errors, want 6", len(err.(FieldErrors)))
	}
}

package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/spf13/cobra"

	designerapi "github.com/voxflow/voxflow/designer-api"
	"github.com/voxflow/voxflow/dialer"
)

// campaignFlags are a campaign's settings on the command line.
type campaignFlags struct {
	s                      designerapi.CampaignSettings
	window, days           string
	minSpacing, ringTimout time.Duration
	retry                  []string
}

func (f *campaignFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.s.Name, "name", "", "display name (default the ID)")
	fl.StringVar(&f.s.Flow, "flow", "", "the published flow each answered call runs")
	fl.StringVar(&f.s.Mode, "mode", "", "preview, progressive, predictive or agentless")
	fl.StringVar(&f.s.Queue, "queue", "", "the agents' queue (preview, progressive, predictive)")
	fl.StringVar(&f.s.CallerID, "caller-id", "", "the number callees see (E.164 or a sip: URI)")
	fl.StringVar(&f.s.Region, "region", "", "country (ISO 3166, like US) of numbers written without a country code")
	fl.StringVar(&f.window, "window", "", "daily calling window in the callee's time, START-END (default 08:00-21:00)")
	fl.StringVar(&f.days, "days", "", "weekdays of the window: mon-fri, or mon,wed,fri (default every day)")
	fl.IntVar(&f.s.MaxAttempts, "max-attempts", 0, fmt.Sprintf("dials of one contact at most (default %d)", dialer.DefaultMaxAttempts))
	fl.DurationVar(&f.minSpacing, "min-spacing", 0, fmt.Sprintf("least time between two dials of a contact (default %s)", dialer.DefaultMinSpacing))
	fl.StringArrayVar(&f.retry, "retry", nil, "when an outcome is dialled again, OUTCOME=DELAY*MAX, repeatable: busy=10m*3 (default the dialer's rules)")
	fl.DurationVar(&f.ringTimout, "ring-timeout", 0, fmt.Sprintf("how long a dial rings (default %s)", dialer.DefaultRingTimeout))
	fl.StringVar(&f.s.Machine, "machine", "", "when a machine answers: hangup, message or flow (default hangup)")
	fl.StringVar(&f.s.MachineText, "machine-text", "", "the message left after the beep (--machine message)")
	fl.Float64Var(&f.s.AbandonCap, "abandon-cap", 0, "largest abandoned share of live answers over 30 days, 0 to 1 (default 0.03)")
	fl.StringVar(&f.s.AbandonText, "abandon-text", "", "what a person hears when no agent is free in time: it must name the caller")
	fl.IntVar(&f.s.Concurrency, "concurrency", 0, fmt.Sprintf("agentless: lines at once (default %d)", dialer.DefaultConcurrency))
	fl.IntVar(&f.s.RatePerMinute, "rate", 0, "dials started per minute at most (0: no bound)")
	fl.Float64Var(&f.s.MaxRatio, "max-ratio", 0, "predictive: lines per available agent at most (default 3)")
	fl.StringSliceVar(&f.s.Required, "required", nil, "CSV columns every contact row must fill: first_name,amount")
}

// settingFlags are the flags --file may not be combined with.
var settingFlags = []string{"name", "flow", "mode", "queue", "caller-id", "region", "window", "days", "max-attempts",
	"min-spacing", "retry", "ring-timeout", "machine", "machine-text", "abandon-cap", "abandon-text", "concurrency",
	"rate", "max-ratio", "required"}

// settings are the campaign the flags describe.
func (f *campaignFlags) settings() (designerapi.CampaignSettings, error) {
	s := f.s
	if f.window != "" {
		start, end, ok := strings.Cut(f.window, "-")
		if !ok {
			return s, fmt.Errorf("--window %q: write START-END, like 08:00-21:00", f.window)
		}
		s.Window.Start, s.Window.End = strings.TrimSpace(start), strings.TrimSpace(end)
	}
	if f.days != "" {
		ds, err := parseDays(f.days)
		if err != nil {
			return s, fmt.Errorf("--days %q: %w", f.days, err)
		}
		s.Window.Days = ds
	}
	if f.minSpacing != 0 {
		s.MinSpacing = f.minSpacing.String()
	}
	if f.ringTimout != 0 {
		s.RingTimeout = f.ringTimout.String()
	}
	for _, r := range f.retry {
		rule, err := parseRetry(r)
		if err != nil {
			return s, err
		}
		s.Retry = append(s.Retry, rule)
	}
	return s, nil
}

// campaignSource is the campaign create was asked for: from --file, or
// from the flags; csv is the contacts file to import, if any.
func (f *campaignFlags) campaignSource(cmd *cobra.Command, args []string, file, contacts string) (id string, s designerapi.CampaignSettings, csv string, err error) {
	if len(args) == 1 {
		id = args[0]
	}
	if file == "" {
		if id == "" {
			return "", s, "", errors.New("give the campaign's ID (or --file with an id)")
		}
		s, err = f.settings()
		return id, s, contacts, err
	}
	for _, name := range settingFlags {
		if cmd.Flags().Changed(name) {
			return "", s, "", fmt.Errorf("--%s: give the settings in --file or as flags, not both", name)
		}
	}
	cf, err := readCampaignFile(file)
	if err != nil {
		return "", s, "", err
	}
	switch {
	case id != "" && cf.ID != "" && id != cf.ID:
		return "", s, "", fmt.Errorf("the ID %q differs from the file's id %q: give one", id, cf.ID)
	case id == "":
		id = cf.ID
	}
	if id == "" {
		return "", s, "", fmt.Errorf("%s: no id: add `id: NAME`, or give the ID", file)
	}
	csv = contacts
	if csv == "" && cf.Contacts != "" {
		csv = cf.Contacts
		if !filepath.IsAbs(csv) {
			csv = filepath.Join(filepath.Dir(file), csv)
		}
	}
	return id, cf.CampaignSettings, csv, nil
}

// campaignFile is a campaign's YAML file: the API's settings, an id and a
// contacts CSV.
type campaignFile struct {
	ID                           string `yaml:"id"`
	Contacts                     string `yaml:"contacts"`
	designerapi.CampaignSettings `yaml:",inline"`
}

// readCampaignFile decodes a campaign file strictly: an unknown or
// repeated key, or a value of the wrong type, is an error at its line and
// column.
func readCampaignFile(path string) (campaignFile, error) {
	var f campaignFile
	src, err := os.ReadFile(path)
	if err != nil {
		return f, fmt.Errorf("--file: %w", err)
	}
	if err := decodeCampaignYAML(src, &f); err != nil {
		return f, fmt.Errorf("%s:%w", path, err)
	}
	return f, nil
}

// decodeCampaignYAML is readCampaignFile's decoding; errors read
// "LINE:COLUMN: message".
func decodeCampaignYAML(src []byte, f *campaignFile) error {
	err := yaml.UnmarshalWithOptions(src, f, yaml.Strict())
	if err == nil {
		return nil
	}
	var ye yaml.Error
	if errors.As(err, &ye) {
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			return fmt.Errorf("%d:%d: %s", tk.Position.Line, tk.Position.Column, ye.GetMessage())
		}
		return fmt.Errorf(" %s", ye.GetMessage())
	}
	return fmt.Errorf(" %w", err)
}

// weekdays in order, as windows name them.
var weekdays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// parseDays reads "mon-fri", "sat,sun" or "fri-mon" (a range may wrap
// the week) into weekday names.
func parseDays(v string) ([]string, error) {
	day := func(s string) (int, error) {
		s = strings.ToLower(strings.TrimSpace(s))
		for i, d := range weekdays {
			if s == d {
				return i, nil
			}
		}
		return 0, fmt.Errorf("%q is not a day: write %s", s, strings.Join(weekdays, ", "))
	}
	var out []string
	seen := map[int]bool{}
	for _, part := range strings.Split(v, ",") {
		from, to, isRange := strings.Cut(part, "-")
		a, err := day(from)
		if err != nil {
			return nil, err
		}
		b := a
		if isRange {
			if b, err = day(to); err != nil {
				return nil, err
			}
		}
		for i := a; ; i = (i + 1) % len(weekdays) {
			if !seen[i] {
				seen[i] = true
				out = append(out, weekdays[i])
			}
			if i == b {
				break
			}
		}
	}
	return out, nil
}

// retrySyntax is how --retry is written.
const retrySyntax = "write OUTCOME=DELAY*MAX, like busy=10m*3"

// parseRetry reads one --retry: busy=10m*3.
func parseRetry(v string) (designerapi.CampaignRetry, error) {
	var r designerapi.CampaignRetry
	outcome, rest, ok := strings.Cut(v, "=")
	delay, max, ok2 := strings.Cut(rest, "*")
	if !ok || !ok2 || strings.TrimSpace(outcome) == "" {
		return r, fmt.Errorf("--retry %q: %s", v, retrySyntax)
	}
	d, err := time.ParseDuration(strings.TrimSpace(delay))
	if err != nil || d < 0 {
		return r, fmt.Errorf("--retry %q: %q is not a duration; %s", v, delay, retrySyntax)
	}
	n, err := strconv.Atoi(strings.TrimSpace(max))
	if err != nil || n < 0 {
		return r, fmt.Errorf("--retry %q: %q is not a count; %s", v, max, retrySyntax)
	}
	return designerapi.CampaignRetry{Outcome: strings.TrimSpace(outcome), Delay: d.String(), Max: n}, nil
}

// flagOf names the flag that sets a campaign field ("window.start" is
// --window, "retry[1].delay" --retry).
func flagOf(field string) string {
	head := field
	if i := strings.IndexAny(field, ".["); i >= 0 {
		head = field[:i]
	}
	switch {
	case field == "window.days":
		return "--days"
	case head == "rate_per_minute":
		return "--rate"
	case head == "id":
		return "the ID"
	}
	return "--" + strings.ReplaceAll(head, "_", "-")
}

// settingsError lists a campaign's problems one per line, by flag (or as
// the file's keys).
func settingsError(err error, fromFile bool) error {
	var fe dialer.FieldErrors
	if !errors.As(err, &fe) {
		return err
	}
	lines := make([]string, 0, len(fe))
	for _, e := range fe {
		flag := flagOf(e.Field)
		switch {
		case fromFile:
			lines = append(lines, e.Error())
		case flag == "--"+strings.ReplaceAll(e.Field, "_", "-"): // the flag is the field: name it once
			e.Field = flag
			lines = append(lines, e.Error())
		default:
			lines = append(lines, flag+": "+e.Error())
		}
	}
	return errors.New("campaign not created:\n  " + strings.Join(lines, "\n  "))
}

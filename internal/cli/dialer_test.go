package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDialerSimulate(t *testing.T) {
	short := []string{"dialer", "simulate", "--agents", "10", "--hours", "1", "--seed", "3"}

	out, errs, code := runCLI(t, append(short, "--mode", "progressive")...)
	for _, want := range []string{"progressive pacing, 10 agents, 1 hours (seed 3)\n", "  abandoned  ", "0 (0.00% of live answers; cap 3%)",
		"agent occupancy  ", "agent wait between calls  mean "} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("progressive: exit %d, stderr %q, stdout:\n%s\nwant %q", code, errs, out, want)
		}
	}

	out, errs, code = runCLI(t, append(short, "--json", "--target", "0.01")...)
	var r struct {
		Model struct {
			Mode   string  `json:"mode"`
			Target float64 `json:"target"`
		} `json:"model"`
		Dials       *int     `json:"dials"`
		AbandonRate *float64 `json:"abandon_rate"`
		Occupancy   *float64 `json:"occupancy"`
	}
	if err := json.Unmarshal([]byte(out), &r); code != 0 || err != nil {
		t.Fatalf("--json: exit %d, %v, stderr %q, stdout:\n%s", code, err, errs, out)
	}
	if r.Model.Mode != "predictive" || r.Model.Target != 0.01 || r.Dials == nil || *r.Dials == 0 ||
		r.AbandonRate == nil || *r.AbandonRate < 0 || *r.AbandonRate > 0.1 || r.Occupancy == nil || *r.Occupancy < 0.3 || *r.Occupancy > 1 {
		t.Fatalf("--json:\n%s", out)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--answer-rate", "1.5"}, "voxflow: --answer-rate 1.5: must be 0 to 1\n"},
		{[]string{"--machine-rate", "-0.2"}, "voxflow: --machine-rate -0.2: must be 0 to 1\n"},
		{[]string{"--answer-rate", "0.8", "--machine-rate", "0.3"}, "voxflow: --answer-rate 0.8 and --machine-rate 0.3: add up to more than 1\n"},
		{[]string{"--agents", "-1"}, "voxflow: --agents -1: must be 0 or more\n"},
		{[]string{"--hours", "0"}, "voxflow: --hours 0: must be above 0\n"},
		{[]string{"--hours", "-2"}, "voxflow: --hours -2: must be above 0\n"},
		{[]string{"--mode", "preview"}, `voxflow: --mode "preview": must be predictive or progressive` + "\n"},
		{[]string{"--talk", "0s"}, "voxflow: --talk 0s: must be above 0\n"},
		{[]string{"--ring", "40s"}, "voxflow: simulate: invalid model: ring 40s: must be 2s to 24s\n"},
		{[]string{"--agents", "ten"}, `invalid argument "ten" for "--agents" flag`},
		{[]string{"extra"}, `voxflow dialer simulate: takes no arguments; got "extra"`},
	} {
		args := append([]string{"dialer", "simulate"}, tc.args...)
		if out, errs, code := runCLI(t, args...); code != 1 || out != "" || !strings.Contains(errs, tc.want) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want %q", strings.Join(args, " "), code, out, errs, tc.want)
		}
	}
}

package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/dialer/pacesim"
)

func newDialerCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "dialer", Short: "Outbound campaigns' dialling: simulate the pacing"}
	cmd.AddCommand(newDialerSimulateCmd())
	return cmd
}

func newDialerSimulateCmd() *cobra.Command {
	m := pacesim.Model{
		Agents: 20, AnswerRate: 0.3, MachineRate: 0.15, Talk: 3 * time.Minute, Wrap: 30 * time.Second,
		Ring: pacesim.DefaultRing, Hours: 8, Seed: 1, Mode: records.PacePredictive, AbandonCap: pacesim.DefaultCap,
	}
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "simulate [--mode predictive|progressive] [--agents N] [--answer-rate R] [--hours H] ...",
		Short: "Simulate a campaign's pacing in virtual time: abandoned calls against agent occupancy",
		Long: `Runs a campaign's day in virtual time (seconds of CPU, no calls) with the
pacing code the campaign workflow runs, and prints what it cost and bought:
the abandoned share of live answers (the US cap is 3% over 30 days) and
the agents' occupancy (talk and wrap-up over signed-in time).

Every dial is a live answer (--answer-rate), an answering machine
(--machine-rate) or rings out at 25 s; answered dials ring about --ring.
A person is abandoned when no agent is free within 2 s of the end of
their greeting. Talk and wrap-up are exponential with means --talk and
--wrap. The same --seed gives the same figures.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkSimulation(m); err != nil {
				return err
			}
			r := pacesim.Run(m)
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					Model pacesim.Model `json:"model"`
					pacesim.Result
				}{m, r})
			}
			printSimulation(cmd.OutOrStdout(), m, r)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&m.Mode, "mode", m.Mode, "pacing: predictive or progressive")
	f.IntVar(&m.Agents, "agents", m.Agents, "agents signed in all along")
	f.Float64Var(&m.AnswerRate, "answer-rate", m.AnswerRate, "share of dials a person answers, 0 to 1")
	f.Float64Var(&m.MachineRate, "machine-rate", m.MachineRate, "share of dials an answering machine answers, 0 to 1")
	f.DurationVar(&m.Talk, "talk", m.Talk, "mean talk time")
	f.DurationVar(&m.Wrap, "wrap", m.Wrap, "mean wrap-up time")
	f.DurationVar(&m.Ring, "ring", m.Ring, "mean ring time of answered dials, 2s to 24s")
	f.Float64Var(&m.Hours, "hours", m.Hours, "hours of virtual time")
	f.Int64Var(&m.Seed, "seed", m.Seed, "random seed")
	f.Float64Var(&m.Target, "target", 0, "abandon rate predictive pacing steers to, 0 to 1 (0: 2/3 of the cap; at most 80% of it)")
	f.Float64Var(&m.AbandonCap, "abandon-cap", m.AbandonCap, "abandon cap, 0 to 1")
	f.Float64Var(&m.MaxRatio, "max-ratio", 0, "most lines per agent expected free (0: the pacing's default, 3)")
	f.BoolVar(&asJSON, "json", false, "print one JSON object: the model and the figures (rates as fractions, times in ns)")
	return cmd
}

// checkSimulation refuses a model, naming the flag at fault.
func checkSimulation(m pacesim.Model) error {
	share := func(flag string, v float64) error {
		if !(v >= 0 && v <= 1) {
			return fmt.Errorf("%s %v: must be 0 to 1", flag, v)
		}
		return nil
	}
	for _, c := range []struct {
		flag string
		v    float64
	}{{"--answer-rate", m.AnswerRate}, {"--machine-rate", m.MachineRate}, {"--target", m.Target}, {"--abandon-cap", m.AbandonCap}} {
		if err := share(c.flag, c.v); err != nil {
			return err
		}
	}
	switch {
	case m.Mode != records.PacePredictive && m.Mode != records.PaceProgressive:
		return fmt.Errorf("--mode %q: must be predictive or progressive", m.Mode)
	case m.Agents < 0:
		return fmt.Errorf("--agents %d: must be 0 or more", m.Agents)
	case m.AnswerRate+m.MachineRate > 1:
		return fmt.Errorf("--answer-rate %v and --machine-rate %v: add up to more than 1", m.AnswerRate, m.MachineRate)
	case !(m.Hours > 0):
		return fmt.Errorf("--hours %v: must be above 0", m.Hours)
	case m.Talk <= 0:
		return fmt.Errorf("--talk %v: must be above 0", m.Talk)
	case m.Wrap < 0:
		return fmt.Errorf("--wrap %v: must be 0 or more", m.Wrap)
	}
	if err := m.Check(); err != nil { // the bounds left: ring, sizes
		return fmt.Errorf("simulate: %w", err)
	}
	return nil
}

func printSimulation(w io.Writer, m pacesim.Model, r pacesim.Result) {
	fmt.Fprintf(w, "%s pacing, %d agents, %v hours (seed %d)\n", m.Mode, m.Agents, m.Hours, m.Seed)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "dials\t%d\n", r.Dials)
	fmt.Fprintf(tw, "live answers\t%d\n", r.LiveAnswers)
	fmt.Fprintf(tw, "  connected to an agent\t%d\n", r.Connected)
	fmt.Fprintf(tw, "  abandoned\t%d (%.2f%% of live answers; cap %.2g%%)\n", r.Abandoned, 100*r.AbandonRate, 100*m.AbandonCap)
	fmt.Fprintf(tw, "answering machines\t%d\n", r.Machines)
	fmt.Fprintf(tw, "agent occupancy\t%.1f%%\n", 100*r.Occupancy)
	fmt.Fprintf(tw, "dials per agent hour\t%.1f\n", r.DialsPerAgentHour)
	fmt.Fprintf(tw, "agent wait between calls\tmean %v, 95th percentile %v\n",
		r.MeanWaitBetweenCalls.Round(100*time.Millisecond), r.P95WaitBetweenCalls.Round(100*time.Millisecond))
	if m.Mode == records.PacePredictive {
		fmt.Fprintf(tw, "paced progressively\t%.1f%% of the time (warm-up, near the cap)\n", 100*r.ProgressiveShare)
	}
	tw.Flush()
}

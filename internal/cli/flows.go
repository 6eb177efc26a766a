package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/examples-flows/democrm"
	"github.com/voxflow/voxflow/flows"
	"github.com/voxflow/voxflow/internal/devtemporal"
	"github.com/voxflow/voxflow/media/text"
	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/platform/config"
	"github.com/voxflow/voxflow/simulator"
)

func newFlowsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "flows", Short: "Validate, inspect and simulate flow files"}
	cmd.AddCommand(newValidateCmd(), newSchemaCmd(), newGraphCmd(), newSimulateCmd())
	return cmd
}

func newValidateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check flow files; errors name file, line and column",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			failed := 0
			for _, file := range args {
				src, err := os.ReadFile(file)
				if err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "%s: %v\n", file, err)
					failed++
					continue
				}
				f, diags := flows.Parse(file, src)
				for _, d := range diags {
					fmt.Fprintln(cmd.ErrOrStderr(), d.String())
				}
				if diags.HasErrors() {
					failed++
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: ok (flow %s, %d nodes)\n", file, f.Name, len(f.Nodes))
			}
			if failed > 0 {
				return ExitError{Code: 1}
			}
			return nil
		},
	}
}

func newSchemaCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of flow files (for editors)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := cmd.OutOrStdout().Write(flows.Schema())
			return err
		},
	}
}

func newGraphCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "graph FILE",
		Short: "Print a flow's node graph in Graphviz DOT",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := loadFlowFile(args[0])
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "digraph %q {\n  rankdir=LR;\n  node [shape=box];\n  __start [shape=point];\n  __start -> %q;\n", f.Name, f.Entry)
			ids := make([]string, 0, len(f.Nodes))
			for id := range f.Nodes {
				ids = append(ids, id)
			}
			sort.Strings(ids)
			for _, id := range ids {
				n := f.Nodes[id]
				fmt.Fprintf(w, "  %q [label=%q];\n", id, id+"\\n("+string(n.Type)+")")
				for _, e := range n.Exits() {
					fmt.Fprintf(w, "  %q -> %q [label=%q];\n", id, e.Target, e.Label)
				}
			}
			fmt.Fprintln(w, "}")
			return nil
		},
	}
}

// loadFlowFile parses and validates one flow file, printing diagnostics.
func loadFlowFile(file string) (*flows.Flow, error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read flow: %w", err)
	}
	f, diags := flows.Parse(file, src)
	if err := diags.Err(); err != nil {
		return nil, err
	}
	return f, nil
}

func newSimulateCmd() *cobra.Command {
	var o simulateOpts
	cmd := &cobra.Command{
		Use:   "simulate FLOW",
		Short: "Run a flow as a real call with a text channel: prompts printed, input typed",
		Long: `Runs FLOW (a YAML file) as a real CallWorkflow. Prompts are printed; caller
input comes from --input flags in order (digits such as 1 or 1234# are DTMF,
words are speech, "" is silence, "hangup" hangs up) or, without --input,
is typed at each turn. Subflows are taken from the flow file's directory.

Without --temporal the simulator embeds its own Temporal server and demo
CRM; with --temporal it runs the call on that platform (e.g. voxflow dev),
so the call shows up in 'voxflow calls' and its record in the store.

Intent and llm nodes ask the model of --llm-url (key in $VOXFLOW_LLM_API_KEY)
or, without it, run offline: intents by the offline matcher, llm nodes take
on_error. --dry-run-llm prints the exact request each AI node would send
and sends none.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd, args[0]) },
	}
	o.tf.register(cmd)
	f := cmd.Flags()
	f.StringArrayVar(&o.inputs, "input", nil, "caller input, in order (repeat the flag)")
	f.StringArrayVar(&o.vars, "var", nil, "override a variable's initial value: name=value (value is JSON or a string)")
	f.BoolVar(&o.asJSON, "json", false, "print one JSON object: path, prompts, vars, outcome")
	f.StringVar(&o.from, "from", "+15550100", "caller number (call.from)")
	f.StringVar(&o.to, "to", "simulator", "dialled number (call.to); with --outbound, whom the flow calls")
	f.BoolVar(&o.outbound, "outbound", false, "an outbound call: the flow places the call to --to first (e.g. appointment-reminder)")
	o.ai.register(f)
	return cmd
}

// simulateOpts are the flags of flows simulate.
type simulateOpts struct {
	tf               temporalFlags
	inputs, vars     []string
	asJSON, outbound bool
	from, to         string
	ai               simulateAIFlags
}

func (o *simulateOpts) run(cmd *cobra.Command, file string) error {
	main, subs, err := loadWithSubflows(file)
	if err != nil {
		return err
	}
	overrides, err := parseVars(o.vars)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	remote := cmd.Flags().Changed("temporal")
	aiActs, err := simulateAI(remote, o.ai.AI, o.ai.dryRun, cmd.OutOrStdout())
	if err != nil {
		return err
	}
	env, err := newSimEnv(ctx, remote, o.tf, aiActs)
	if err != nil {
		return err
	}
	defer env.close()
	if _, declared := main.flow.Variables["crm_url"]; declared && env.crmURL != "" {
		if _, set := overrides["crm_url"]; !set {
			overrides["crm_url"] = env.crmURL
		}
	}
	req := simulator.Request{Flow: main.source, Subflows: subs, From: o.from, To: o.to, Vars: overrides, Outbound: o.outbound}
	var tr simulator.Transcript
	if cmd.Flags().Changed("input") {
		req.Inputs = o.inputs
	} else {
		tr.In = cmd.InOrStdin()
	}
	if !o.asJSON {
		tr.Out = cmd.OutOrStdout()
	}
	res, err := simulator.New(env.client, env.channel).Run(ctx, req, tr)
	if err != nil || !o.asJSON {
		return err
	}
	enc := json.NewEncoder(cmd.OutOrStdout())
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}

// simulateAIFlags are how a simulated call's AI nodes are answered.
type simulateAIFlags struct {
	config.AI
	dryRun bool
}

func (a *simulateAIFlags) register(f *pflag.FlagSet) {
	f.StringVar(&a.LLMURL, "llm-url", os.Getenv("VOXFLOW_LLM_URL"), "OpenAI-compatible endpoint for intent and llm nodes (key in $VOXFLOW_LLM_API_KEY; empty: offline)")
	f.StringVar(&a.Model, "llm-model", os.Getenv("VOXFLOW_LLM_MODEL"), "default model of intent and llm nodes")
	f.StringVar(&a.JSONMode, "llm-json-mode", "", "how structured answers are asked for: json_schema, tool or json_object")
	f.BoolVar(&a.dryRun, "dry-run-llm", false, "print the exact request each intent, llm and summary would send to the model, and send none")
}

// simulateAI is what answers a simulated call's AI nodes: the endpoint,
// a dry run that prints its requests, or the offline defaults (nil).
func simulateAI(remote bool, ai config.AI, dryRun bool, out io.Writer) (platform.AIActivities, error) {
	if remote && (dryRun || ai.LLMURL != "") {
		return nil, errors.New("--dry-run-llm and --llm-url work on the embedded simulator only: with --temporal, the platform's own workers answer AI nodes")
	}
	if dryRun {
		return platform.DryRunAI(platform.LLMConfig(ai), out, quietLogger()), nil
	}
	if ai.LLMURL == "" {
		return nil, nil
	}
	return platform.NewAI(ai, quietLogger())
}

type parsedFlow struct {
	flow   *flows.Flow
	source activities.FlowSource
}

// loadWithSubflows loads the flow file and pins the subflows it calls,
// found by name among the YAML files beside it.
func loadWithSubflows(file string) (parsedFlow, []activities.FlowSource, error) {
	main, err := parseFile(file)
	if err != nil {
		return parsedFlow{}, nil, err
	}
	byName := map[string]parsedFlow{}
	siblings, _ := filepath.Glob(filepath.Join(filepath.Dir(file), "*.yaml"))
	for _, s := range siblings {
		if p, err := parseFile(s); err == nil {
			byName[p.flow.Name] = p
		}
	}
	var subs []activities.FlowSource
	seen := map[string]bool{main.flow.Name: true}
	queue := []*flows.Flow{main.flow}
	for len(queue) > 0 {
		f := queue[0]
		queue = queue[1:]
		for _, id := range sortedNodeIDs(f) {
			n := f.Nodes[id]
			if n.Type != flows.TypeSubflow || seen[n.Flow] {
				continue
			}
			seen[n.Flow] = true
			p, ok := byName[n.Flow]
			if !ok {
				return parsedFlow{}, nil, fmt.Errorf("flow %s node %s calls subflow %q: no valid flow file with that name in %s", f.Name, id, n.Flow, filepath.Dir(file))
			}
			subs = append(subs, p.source)
			queue = append(queue, p.flow)
		}
	}
	return main, subs, nil
}

func sortedNodeIDs(f *flows.Flow) []string {
	ids := make([]string, 0, len(f.Nodes))
	for id := range f.Nodes {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func parseFile(file string) (parsedFlow, error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return parsedFlow{}, fmt.Errorf("read flow: %w", err)
	}
	f, diags := flows.Parse(file, src)
	if err := diags.Err(); err != nil {
		return parsedFlow{}, err
	}
	return parsedFlow{flow: f, source: activities.FlowSource{Name: f.Name, Version: 0, Source: string(src)}}, nil
}

func parseVars(kvs []string) (map[string]any, error) {
	out := map[string]any{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--var %q: want name=value", kv)
		}
		var parsed any
		if err := json.Unmarshal([]byte(v), &parsed); err != nil {
			parsed = v
		}
		out[k] = parsed
	}
	return out, nil
}

// simEnv is where a simulated call runs: an embedded stack or a platform.
type simEnv struct {
	client  client.Client
	channel *text.Channel
	crmURL  string
	closers []func()
}

func (e *simEnv) close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
}

func newSimEnv(ctx context.Context, remote bool, tf temporalFlags, ai platform.AIActivities) (*simEnv, error) {
	env := &simEnv{}
	ok := false
	defer func() {
		if !ok {
			env.close()
		}
	}()
	if remote {
		c, err := tf.dial()
		if err != nil {
			return nil, err
		}
		env.client = c
		env.closers = append(env.closers, c.Close)
	} else {
		dir, err := os.MkdirTemp("", "voxflow-simulate-")
		if err != nil {
			return nil, err
		}
		env.closers = append(env.closers, func() { os.RemoveAll(dir) })
		srv, err := startEmbeddedTemporal(ctx, dir)
		if err != nil {
			return nil, err
		}
		env.closers = append(env.closers, func() { _ = srv.Stop() })
		c, err := client.Dial(client.Options{HostPort: srv.FrontendHostPort(), Logger: sdklog.NewStructuredLogger(quietLogger())})
		if err != nil {
			return nil, err
		}
		env.client = c
		env.closers = append(env.closers, c.Close)
		if err := devtemporal.RegisterSearchAttributes(ctx, c, "default"); err != nil {
			return nil, err
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		crm := &http.Server{Handler: http.StripPrefix("/demo/crm", democrm.New().Handler())}
		go crm.Serve(ln)
		env.closers = append(env.closers, func() { _ = crm.Close() })
		env.crmURL = "http://" + ln.Addr().String() + "/demo/crm"
		ws, err := platform.StartWorkers(c, platform.Parts{Engine: true, Shared: platform.StorelessActivities(), AI: ai})
		if err != nil {
			return nil, err
		}
		env.closers = append(env.closers, ws.Stop)
	}
	env.channel = text.NewChannel("sim-"+platform.NewCallID()[:8], platform.HangupSignaler(env.client))
	ws, err := platform.StartWorkers(env.client, platform.Parts{Channels: []activities.Channel{env.channel}})
	if err != nil {
		return nil, err
	}
	env.closers = append(env.closers, ws.Stop)
	ok = true
	return env, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startEmbeddedTemporal starts the simulator's own Temporal server on a
// free port; another process may take the port between the pick and the
// listen (devtemporal.ErrStartRace), so a few fresh picks are tried.
func startEmbeddedTemporal(ctx context.Context, dir string) (*devtemporal.Server, error) {
	var err error
	for range 3 {
		var port int
		if port, err = freePort(); err != nil {
			return nil, err
		}
		var srv *devtemporal.Server
		if srv, err = devtemporal.Start(ctx, devtemporal.Config{DataDir: dir, Port: port}); err == nil {
			return srv, nil
		}
		if !errors.Is(err, devtemporal.ErrStartRace) {
			return nil, err
		}
	}
	return nil, err
}

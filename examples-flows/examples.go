// Package examples ships voxflow's example flows. `voxflow dev` publishes
// them at start; tests validate and simulate every one.
package examples

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"
)

//go:embed *.yaml
var files embed.FS

// File is one example flow file.
type File struct {
	Name   string // file name, e.g. support-line.yaml
	Source []byte
}

// Files returns the example flow files in name order.
func Files() ([]File, error) {
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		return nil, fmt.Errorf("list example flows: %w", err)
	}
	var out []File
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".yaml") {
			continue
		}
		src, err := files.ReadFile(e.Name())
		if err != nil {
			return nil, fmt.Errorf("read example flow %s: %w", e.Name(), err)
		}
		out = append(out, File{Name: e.Name(), Source: src})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Numbers are the demo numbers `voxflow dev` binds to the examples.
var Numbers = map[string]string{
	"1000": "support-line",
	"2000": "bank-ivr",
	"3000": "appointment-reminder",
	"4000": "agent-desk",
	"5000": "billing-line",
}

// Queue is an example queue `voxflow dev` defines when it is missing.
type Queue struct {
	Name          string
	HoldFlow      string
	AnnounceEvery time.Duration
	MaxWait       time.Duration
	RingTimeout   time.Duration
	WrapUp        time.Duration
	// OverflowAfter moves a caller still waiting after it to OverflowTo.
	OverflowAfter time.Duration
	OverflowTo    string
}

// Queues are the example flows' queues, in the order they must be
// defined (an overflow target first).
var Queues = []Queue{
	{Name: "support", HoldFlow: "queue-hold", MaxWait: 5 * time.Minute, RingTimeout: 20 * time.Second, WrapUp: 30 * time.Second},
	// Gold customers wait for the priority team, then for anyone in support.
	{Name: "priority", HoldFlow: "queue-hold", MaxWait: 5 * time.Minute, RingTimeout: 20 * time.Second, WrapUp: 30 * time.Second,
		OverflowAfter: time.Minute, OverflowTo: "support"},
	{Name: "banking", HoldFlow: "queue-hold", MaxWait: 2 * time.Minute, RingTimeout: 20 * time.Second, WrapUp: 30 * time.Second},
	// The sales campaign's agents: no hold flow (a live answer waits 2 s at
	// most), agents' phones ring briefly (set them to answer at once).
	{Name: "outbound-sales", MaxWait: time.Minute, RingTimeout: 5 * time.Second, WrapUp: 30 * time.Second},
}

package platform

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/store"
)

// NumberEraser is the store side of an erase (*store.Store is one).
type NumberEraser interface {
	EraseNumber(ctx context.Context, number string, dry bool) (store.Erasure, error)
}

// Erase kinds besides the store's.
const (
	KindWorkflows = "workflow_runs"
)

// EraseReport is what EraseNumber removed, or with DryRun would remove.
type EraseReport struct {
	Number string `json:"number"`
	DryRun bool   `json:"dry_run"`
	// Counts: rows per store kind (store.KindCDRs, ...; store.KindDNCKept
	// are kept), KindRecordings files and KindWorkflows closed runs.
	Counts  map[string]int `json:"counts"`
	CallIDs []string       `json:"call_ids"`
	// Recordings deleted (or, dry, present); Unreachable: those this
	// machine could not delete, with why (another media worker's disk).
	Recordings  []string          `json:"recordings,omitempty"`
	Unreachable map[string]string `json:"unreachable_recordings,omitempty"`
	// Running are the workflow IDs of calls still in progress: not touched.
	Running []string `json:"running,omitempty"`
}

// EraseNumber erases a caller: the store's rows (one transaction), the
// recording files the CDRs name where this machine reaches them, and the
// closed Temporal runs of those calls (DeleteWorkflowExecution: history
// and visibility). Running calls are reported, not touched. The client
// may be nil: then Temporal is left alone (reported as not done).
func EraseNumber(ctx context.Context, c client.Client, namespace string, s NumberEraser, number string, dry bool) (EraseReport, error) {
	e, err := s.EraseNumber(ctx, number, dry)
	if err != nil {
		return EraseReport{}, err
	}
	r := EraseReport{Number: number, DryRun: dry, Counts: e.Counts, CallIDs: e.CallIDs, Unreachable: map[string]string{}}
	r.Counts[KindRecordings] = 0
	for _, p := range e.Recordings {
		if why := eraseFile(p, dry); why != "" {
			r.Unreachable[p] = why
			continue
		}
		r.Recordings = append(r.Recordings, p)
		r.Counts[KindRecordings]++
	}
	if c == nil {
		return r, nil
	}
	ids := slices.Clone(e.WorkflowIDs)
	for _, id := range e.CallIDs {
		ids = append(ids, activities.WorkflowID(id))
	}
	slices.Sort(ids)
	n, running, err := eraseRuns(ctx, c, namespace, slices.Compact(ids), dry)
	r.Counts[KindWorkflows], r.Running = n, running
	if err != nil {
		return r, fmt.Errorf("erase %s: the store is erased, Temporal not all: %w", number, err)
	}
	return r, nil
}

// eraseFile deletes (dry: checks) a recording reference (a path or a
// file:// URL); it returns why it could
// not, "" when it did.
func eraseFile(ref string, dry bool) string {
	path := strings.TrimPrefix(ref, "file://") // how media workers name their files
	if strings.Contains(path, "://") || !filepath.IsAbs(path) {
		return "not a file path on this machine"
	}
	var err error
	if dry {
		_, err = os.Stat(path)
	} else {
		err = os.Remove(path)
	}
	switch {
	case err == nil:
		return ""
	case errors.Is(err, fs.ErrNotExist):
		return "not on this machine (another media worker's disk, or already gone)"
	default:
		return err.Error()
	}
}

// eraseRuns deletes the closed runs of the workflows ids (dry: counts
// them) and returns how many, and the IDs of those still running.
func eraseRuns(ctx context.Context, c client.Client, namespace string, ids []string, dry bool) (int, []string, error) {
	n := 0
	var running []string
	for _, id := range ids {
		if strings.ContainsAny(id, `'"\`) {
			return n, running, fmt.Errorf("workflow ID %q: quotes cannot be queried", id)
		}
		var token []byte
		for {
			page, err := c.ListWorkflow(ctx, &workflowpb.ListWorkflowExecutionsRequest{
				Namespace: namespace, Query: fmt.Sprintf("WorkflowId = '%s'", id), NextPageToken: token})
			if err != nil {
				return n, running, fmt.Errorf("list runs of %s: %w", id, err)
			}
			for _, ex := range page.Executions {
				if ex.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
					running = append(running, id)
					continue
				}
				if !dry {
					if err := deleteRun(ctx, c, namespace, ex.GetExecution()); err != nil {
						return n, running, err
					}
				}
				n++
			}
			if token = page.NextPageToken; len(token) == 0 {
				break
			}
		}
	}
	return n, running, nil
}

func deleteRun(ctx context.Context, c client.Client, namespace string, ex *commonpb.WorkflowExecution) error {
	_, err := c.WorkflowService().DeleteWorkflowExecution(ctx, &workflowpb.DeleteWorkflowExecutionRequest{
		Namespace: namespace, WorkflowExecution: ex})
	var nf *serviceerror.NotFound
	if err != nil && !errors.As(err, &nf) { // NotFound: gone already
		return fmt.Errorf("delete run %s/%s: %w", ex.GetWorkflowId(), ex.GetRunId(), err)
	}
	return nil
}

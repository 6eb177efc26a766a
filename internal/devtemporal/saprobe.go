package devtemporal

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	commandpb "go.temporal.io/api/command/v1"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/types/known/durationpb"
)

// ProbeWorkflowType is the workflow type of the probe RegisterSearchAttributes
// runs (and deletes) after adding search attributes.
const ProbeWorkflowType = "voxflow.searchAttributeProbe"

// errNotYet marks a probe step that saw the old state: try again.
var errNotYet = errors.New("not yet")

// probeRetry is the pause between tries while a service still has the old
// search attributes cached.
const probeRetry = 20 * time.Millisecond

// saProbe is one probe workflow. It has no worker: the probe polls its own
// task queue and completes its workflow task through the raw API.
type saProbe struct {
	svc       workflowservice.WorkflowServiceClient
	namespace string
	id        string
	attrs     map[string]enumspb.IndexedValueType
	values    *commonpb.SearchAttributes
}

// waitSearchAttributesUsable returns once attrs can be used the way voxflow's
// calls use them: a workflow is started with all of them set (the frontend
// validates them), history reads them back by name, its workflow task upserts
// all of them (history validates them), and it is listed by a query on them
// with all of them in its row (the frontend maps them back from the
// visibility store's columns). The probe is deleted; the server removes it
// from visibility some seconds later.
func waitSearchAttributesUsable(ctx context.Context, c client.Client, namespace string, attrs map[string]enumspb.IndexedValueType) error {
	values, err := probeValues(attrs)
	if err != nil {
		return err
	}
	p := &saProbe{svc: c.WorkflowService(), namespace: namespace, id: "voxflow-sa-probe-" + uuid.NewString(), attrs: attrs, values: values}
	defer p.delete()
	if err := p.start(ctx); err != nil {
		return err
	}
	if err := p.waitHistory(ctx); err != nil {
		return err
	}
	if err := p.upsertAndComplete(ctx); err != nil {
		return err
	}
	return p.waitListed(ctx)
}

// probeValues is one value of each attribute's type.
func probeValues(attrs map[string]enumspb.IndexedValueType) (*commonpb.SearchAttributes, error) {
	dc := converter.GetDefaultDataConverter()
	fields := make(map[string]*commonpb.Payload, len(attrs))
	for name, typ := range attrs {
		var v any
		switch typ {
		case enumspb.INDEXED_VALUE_TYPE_KEYWORD, enumspb.INDEXED_VALUE_TYPE_TEXT:
			v = "probe"
		case enumspb.INDEXED_VALUE_TYPE_INT:
			v = int64(0)
		case enumspb.INDEXED_VALUE_TYPE_DATETIME:
			v = time.Unix(0, 0).UTC()
		default:
			return nil, fmt.Errorf("devtemporal: no probe value for search attribute %s of type %v", name, typ)
		}
		p, err := dc.ToPayload(v)
		if err != nil {
			return nil, fmt.Errorf("devtemporal: encode probe value of %s: %w", name, err)
		}
		fields[name] = p
	}
	return &commonpb.SearchAttributes{IndexedFields: fields}, nil
}

// retryStale calls try until it succeeds, fails with something other than
// errNotYet or InvalidArgument (what a service with stale search attributes
// answers), or ctx ends.
func retryStale(ctx context.Context, what string, try func() error) error {
	for {
		err := try()
		var invalid *serviceerror.InvalidArgument
		if err == nil || !errors.Is(err, errNotYet) && !errors.As(err, &invalid) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w (last error: %v)", what, ctx.Err(), err)
		case <-time.After(probeRetry):
		}
	}
}

func (p *saProbe) start(ctx context.Context) error {
	req := &workflowservice.StartWorkflowExecutionRequest{
		Namespace:    p.namespace,
		WorkflowId:   p.id,
		WorkflowType: &commonpb.WorkflowType{Name: ProbeWorkflowType},
		TaskQueue:    &taskqueuepb.TaskQueue{Name: p.id, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
		// Ends by itself should this process die before completing it.
		WorkflowRunTimeout: durationpb.New(time.Minute),
		// A second failed attempt of a workflow task is dropped and retried
		// after this timeout (see upsertAndComplete).
		WorkflowTaskTimeout: durationpb.New(2 * time.Second),
		SearchAttributes:    p.values,
		Identity:            "voxflow-devtemporal",
		RequestId:           uuid.NewString(),
	}
	return retryStale(ctx, "start probe workflow", func() error {
		_, err := p.svc.StartWorkflowExecution(ctx, req)
		return err
	})
}

// waitHistory waits until history reads the probe's start event back with
// every attribute under its name: the history service maps the visibility
// store's columns back to names with its own cached copy.
func (p *saProbe) waitHistory(ctx context.Context) error {
	return retryStale(ctx, "read probe workflow history", func() error {
		resp, err := p.svc.GetWorkflowExecutionHistory(ctx, &workflowservice.GetWorkflowExecutionHistoryRequest{
			Namespace: p.namespace,
			Execution: &commonpb.WorkflowExecution{WorkflowId: p.id},
		})
		if err != nil {
			return fmt.Errorf("get probe workflow history: %w", err)
		}
		events := resp.GetHistory().GetEvents()
		if len(events) == 0 {
			return fmt.Errorf("probe workflow history is empty: %w", errNotYet)
		}
		return p.hasAll("history", events[0].GetWorkflowExecutionStartedEventAttributes().GetSearchAttributes())
	})
}

// hasAll returns an errNotYet error naming the attributes sa lacks.
func (p *saProbe) hasAll(where string, sa *commonpb.SearchAttributes) error {
	var lack []string
	for name := range p.attrs {
		if _, ok := sa.GetIndexedFields()[name]; !ok {
			lack = append(lack, name)
		}
	}
	if len(lack) > 0 {
		slices.Sort(lack)
		return fmt.Errorf("%s does not show search attributes %v: %w", where, lack, errNotYet)
	}
	return nil
}

// upsertAndComplete completes the probe's workflow task with an upsert of
// every attribute and the workflow's completion. History would fail the task
// if it did not know an attribute (waitHistory makes that unlikely); the next
// attempt is then polled again.
func (p *saProbe) upsertAndComplete(ctx context.Context) error {
	commands := []*commandpb.Command{{
		CommandType: enumspb.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
		Attributes: &commandpb.Command_UpsertWorkflowSearchAttributesCommandAttributes{
			UpsertWorkflowSearchAttributesCommandAttributes: &commandpb.UpsertWorkflowSearchAttributesCommandAttributes{SearchAttributes: p.values},
		},
	}, {
		CommandType: enumspb.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION,
		Attributes: &commandpb.Command_CompleteWorkflowExecutionCommandAttributes{
			CompleteWorkflowExecutionCommandAttributes: &commandpb.CompleteWorkflowExecutionCommandAttributes{},
		},
	}}
	return retryStale(ctx, "complete probe workflow task", func() error {
		task, err := p.svc.PollWorkflowTaskQueue(ctx, &workflowservice.PollWorkflowTaskQueueRequest{
			Namespace: p.namespace,
			TaskQueue: &taskqueuepb.TaskQueue{Name: p.id, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
			Identity:  "voxflow-devtemporal",
		})
		if err != nil {
			return fmt.Errorf("poll probe workflow task: %w", err)
		}
		if len(task.GetTaskToken()) == 0 {
			return fmt.Errorf("no probe workflow task: %w", errNotYet) // empty long poll
		}
		_, err = p.svc.RespondWorkflowTaskCompleted(ctx, &workflowservice.RespondWorkflowTaskCompletedRequest{
			Namespace: p.namespace,
			TaskToken: task.GetTaskToken(),
			Commands:  commands,
			Identity:  "voxflow-devtemporal",
		})
		return err
	})
}

// waitListed waits until a visibility query on the attributes lists the
// completed probe with all of them in its row.
func (p *saProbe) waitListed(ctx context.Context) error {
	conds := []string{fmt.Sprintf("WorkflowId = %q", p.id), "ExecutionStatus = 'Completed'"}
	for _, name := range slices.Sorted(maps.Keys(p.attrs)) {
		switch p.attrs[name] {
		case enumspb.INDEXED_VALUE_TYPE_KEYWORD:
			conds = append(conds, fmt.Sprintf("%s = 'probe'", name))
		case enumspb.INDEXED_VALUE_TYPE_INT:
			conds = append(conds, fmt.Sprintf("%s = 0", name))
		}
	}
	query := strings.Join(conds, " AND ")
	return retryStale(ctx, "list probe workflow", func() error {
		resp, err := p.svc.ListWorkflowExecutions(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: p.namespace, PageSize: 1, Query: query,
		})
		if err != nil {
			return fmt.Errorf("list probe workflow: %w", err)
		}
		if len(resp.GetExecutions()) == 0 {
			return fmt.Errorf("probe workflow not listed: %w", errNotYet) // visibility lags
		}
		return p.hasAll("visibility", resp.GetExecutions()[0].GetSearchAttributes())
	})
}

// delete removes the probe (best effort: it also times out by itself).
func (p *saProbe) delete() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = p.svc.DeleteWorkflowExecution(ctx, &workflowservice.DeleteWorkflowExecutionRequest{
		Namespace:         p.namespace,
		WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: p.id},
	})
}

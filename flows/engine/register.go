package engine

import (
	"go.temporal.io/sdk/workflow"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
)

// WorkflowRegistry is where CallWorkflow is registered: a worker or a replayer.
type WorkflowRegistry interface {
	RegisterWorkflowWithOptions(w interface{}, options workflow.RegisterOptions)
}

// Options configure the workflows one worker runs.
type Options struct {
	// Compat caps the versioned changes the worker records in calls
	// (rolling upgrades, docs/upgrades.md); the zero value records all.
	Compat Compat
}

// Register registers CallWorkflow and CallbackWorkflow under their
// contract names.
func Register(r WorkflowRegistry) {
	RegisterWith(r, Options{})
}

// RegisterWith is Register for a worker with options. CallbackWorkflow is
// never capped: every build that has it records all its changes.
func RegisterWith(r WorkflowRegistry, o Options) {
	call := func(ctx workflow.Context, in CallInput) (records.CDR, error) {
		return runCall(ctx, in, o.Compat)
	}
	r.RegisterWorkflowWithOptions(call, workflow.RegisterOptions{Name: activities.CallWorkflowName})
	r.RegisterWorkflowWithOptions(CallbackWorkflow, workflow.RegisterOptions{Name: activities.CallbackWorkflowName})
}

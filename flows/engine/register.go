package engine

import (
	"go.temporal.io/sdk/workflow"

	"github.com/voxflow/voxflow/activities"
)

// WorkflowRegistry is where CallWorkflow is registered: a worker or a replayer.
type WorkflowRegistry interface {
	RegisterWorkflowWithOptions(w interface{}, options workflow.RegisterOptions)
}

// Register registers CallWorkflow and CallbackWorkflow under their
// contract names.
func Register(r WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(CallWorkflow, workflow.RegisterOptions{Name: activities.CallWorkflowName})
	r.RegisterWorkflowWithOptions(CallbackWorkflow, workflow.RegisterOptions{Name: activities.CallbackWorkflowName})
}

package engine

import (
	"go.temporal.io/sdk/workflow"

	"github.com/voxflow/voxflow/activities"
)

// WorkflowRegistry is where CallWorkflow is registered: a worker or a replayer.
type WorkflowRegistry interface {
	RegisterWorkflowWithOptions(w interface{}, options workflow.RegisterOptions)
}

// Register registers CallWorkflow under its contract name.
func Register(r WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(CallWorkflow, workflow.RegisterOptions{Name: activities.CallWorkflowName})
}

package platform

import (
	"context"
	"fmt"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/builtin"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/store"
)

// SharedActivities are the shared activities of a platform on a store:
// HTTP for http nodes, call records and subflows in s, the least-loaded
// media worker from s's registry, and routing: queues defined in s, the
// router workflow (filled in by StartWorkers), wrap-ups into s's records.
func SharedActivities(s *store.Store) *builtin.Activities {
	return &builtin.Activities{
		HTTP: builtin.NewHTTPCaller(), Flows: StoreFlows{Store: s}, CDRs: s,
		Router: builtin.NoAgents{}, Workers: s, Queues: StoreQueues{Store: s}, WrapUps: s,
		Callbacks: StoreCallbacks{Store: s}, Alerts: s,
	}
}

// StorelessActivities are the shared activities of the embedded simulator,
// which has no store: subflows must be pinned when the call starts and
// call records are dropped (the simulator reads the workflow's result).
func StorelessActivities() *builtin.Activities {
	return &builtin.Activities{HTTP: builtin.NewHTTPCaller(), Flows: noStore{}, CDRs: noStore{},
		Router: builtin.NoAgents{}, Queues: implicitQueues{}}
}

type noStore struct{}

func (noStore) LoadPublished(ctx context.Context, name string) (activities.FlowSource, error) {
	return activities.FlowSource{}, fmt.Errorf("flow %q: the embedded simulator has no store; put it beside the flow file", name)
}

func (noStore) SaveCDR(ctx context.Context, rec records.CDR) error { return nil }

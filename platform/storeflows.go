package platform

import (
	"context"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/store"
)

// StoreFlows serves published flows from the store to the engine.
type StoreFlows struct{ Store *store.Store }

// LoadPublished returns the latest published version of a flow.
func (s StoreFlows) LoadPublished(ctx context.Context, name string) (activities.FlowSource, error) {
	v, err := s.Store.Published(ctx, name)
	if err != nil {
		return activities.FlowSource{}, err
	}
	return activities.FlowSource{Name: v.Flow, Version: v.Version, Source: v.Source}, nil
}

package platform

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/flows"
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

// StoreRoutes routes dialled numbers to flows through the store's number
// bindings and published versions, and reads the channel settings a flow
// declares (settings.early_media) once per published version.
type StoreRoutes struct {
	Store *store.Store
	// settings caches channel settings by "name@version": published
	// versions never change.
	settings sync.Map
}

var _ activities.Routes = (*StoreRoutes)(nil)

// Route implements activities.Routes: an unbound number or a flow with no
// published version wraps activities.ErrNoRoute.
func (r *StoreRoutes) Route(ctx context.Context, number string) (activities.Route, error) {
	name, err := r.Store.FlowForNumber(ctx, number)
	if errors.Is(err, store.ErrNotFound) {
		return activities.Route{}, fmt.Errorf("%w: %q is not bound to a flow", activities.ErrNoRoute, number)
	}
	if err != nil {
		return activities.Route{}, fmt.Errorf("look up number %q: %w", number, err)
	}
	src, err := StoreFlows{Store: r.Store}.LoadPublished(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return activities.Route{}, fmt.Errorf("%w: flow %q has no published version", activities.ErrNoRoute, name)
	}
	if err != nil {
		return activities.Route{}, fmt.Errorf("load flow %q: %w", name, err)
	}
	return activities.Route{Flow: src, EarlyMedia: r.earlyMedia(src)}, nil
}

// earlyMedia reports whether a published flow sets settings.early_media.
func (r *StoreRoutes) earlyMedia(src activities.FlowSource) bool {
	key := src.Name + "@" + strconv.Itoa(src.Version)
	if v, ok := r.settings.Load(key); ok {
		return v.(bool)
	}
	f, _ := flows.Decode(src.Name, []byte(src.Source))
	early := f != nil && f.Settings.EarlyMedia
	r.settings.Store(key, early)
	return early
}

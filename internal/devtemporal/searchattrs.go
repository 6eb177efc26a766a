package devtemporal

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/voxflow/voxflow/activities"
)

// SearchAttributes returns voxflow's custom search attributes and their types.
func SearchAttributes() map[string]enumspb.IndexedValueType {
	return map[string]enumspb.IndexedValueType{
		activities.AttrFlow:       enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		activities.AttrVersion:    enumspb.INDEXED_VALUE_TYPE_INT,
		activities.AttrNode:       enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		activities.AttrNodeSince:  enumspb.INDEXED_VALUE_TYPE_DATETIME,
		activities.AttrMediaQueue: enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	}
}

// registerTimeout bounds RegisterSearchAttributes when ctx has no deadline.
const registerTimeout = 30 * time.Second

// RegisterSearchAttributes registers voxflow's search attributes on namespace
// through the operator service. It is idempotent: attributes already present
// with the right type are left alone; one present with another type is an error.
//
// When it adds attributes it returns only once they are usable: the server's
// services each cache the namespace's search attributes and re-read them every
// system.namespaceCacheRefreshInterval, and until then a workflow started with
// them is refused (frontend) and one that upserts them has its workflow task
// failed (history). It waits by running a probe workflow that does both
// (waitSearchAttributesUsable).
func RegisterSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, registerTimeout)
		defer cancel()
	}
	want := SearchAttributes()
	missing, err := missingSearchAttributes(ctx, c, namespace, want)
	if err != nil {
		return err
	}
	if len(missing) == 0 {
		return nil
	}
	if err := addSearchAttributes(ctx, c, namespace, want, missing); err != nil {
		return err
	}
	if err := waitSearchAttributesUsable(ctx, c, namespace, want); err != nil {
		return fmt.Errorf("devtemporal: search attributes %v added to %q but not usable: %w", keys(missing), namespace, err)
	}
	return nil
}

// addSearchAttributes adds missing; when someone else added them
// concurrently it checks that all of want are there now.
func addSearchAttributes(ctx context.Context, c client.Client, namespace string, want, missing map[string]enumspb.IndexedValueType) error {
	_, err := c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace:        namespace,
		SearchAttributes: missing,
	})
	var exists *serviceerror.AlreadyExists
	if errors.As(err, &exists) {
		missing, err = missingSearchAttributes(ctx, c, namespace, want)
		if err == nil && len(missing) > 0 {
			err = fmt.Errorf("devtemporal: search attributes %v still missing after AlreadyExists", keys(missing))
		}
		return err
	}
	if err != nil {
		return fmt.Errorf("devtemporal: add search attributes to %q: %w", namespace, err)
	}
	return nil
}

func missingSearchAttributes(ctx context.Context, c client.Client, namespace string, want map[string]enumspb.IndexedValueType) (map[string]enumspb.IndexedValueType, error) {
	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return nil, fmt.Errorf("devtemporal: list search attributes of %q: %w", namespace, err)
	}
	have := resp.GetCustomAttributes()
	missing := make(map[string]enumspb.IndexedValueType)
	for name, typ := range want {
		got, ok := have[name]
		switch {
		case !ok:
			missing[name] = typ
		case got != typ:
			return nil, fmt.Errorf("devtemporal: search attribute %s on %q is %v, voxflow needs %v", name, namespace, got, typ)
		}
	}
	return missing, nil
}

func keys(m map[string]enumspb.IndexedValueType) []string {
	return slices.Sorted(maps.Keys(m))
}

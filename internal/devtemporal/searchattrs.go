package devtemporal

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

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

// RegisterSearchAttributes registers voxflow's search attributes on namespace
// through the operator service. It is idempotent: attributes already present
// with the right type are left alone; one present with another type is an error.
func RegisterSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	want := SearchAttributes()
	missing, err := missingSearchAttributes(ctx, c, namespace, want)
	if err != nil {
		return err
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace:        namespace,
		SearchAttributes: missing,
	})
	var exists *serviceerror.AlreadyExists
	if errors.As(err, &exists) {
		// Someone registered them concurrently: check they match.
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

package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/voxflow/voxflow/internal/devtemporal"
	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/platform/config"
)

// namespaceReadyTimeout bounds the wait for a new namespace to be served:
// each frontend re-reads namespaces every 10 s by default.
const namespaceReadyTimeout = 90 * time.Second

func newTemporalCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "temporal", Short: "Prepare a Temporal cluster for voxflow"}
	cmd.AddCommand(newTemporalSetupCmd())
	return cmd
}

func newTemporalSetupCmd() *cobra.Command {
	var (
		flags     *config.Flags
		retention time.Duration
	)
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "Register the namespace and voxflow's search attributes (idempotent)",
		Long: `Registers the namespace when it is missing (with --retention), waits until
the cluster serves it, and registers voxflow's search attributes (VoxflowFlow,
VoxflowVersion, VoxflowNode, VoxflowNodeSince, VoxflowMediaQueue), waiting
until workflows can use them. Run it once per namespace before the first
engine starts; running it again changes nothing. Temporal Cloud namespaces
are created in Cloud's console: there it only adds the search attributes.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := flags.Load()
			if err != nil {
				return err
			}
			return setupTemporal(cmd.Context(), cfg.Temporal, retention, cmd.OutOrStdout())
		},
	}
	flags = config.Bind(cmd.Flags(), config.TemporalKeys()...)
	cmd.Flags().DurationVar(&retention, "retention", 72*time.Hour, "how long a new namespace keeps closed workflows' histories")
	return cmd
}

// setupTemporal registers the namespace and the search attributes.
func setupTemporal(ctx context.Context, t config.Temporal, retention time.Duration, out io.Writer) error {
	o, err := platform.TemporalOptions(t, quietLogger())
	if err != nil {
		return err
	}
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	c, err := client.DialContext(dctx, o)
	cancel()
	if err != nil {
		return fmt.Errorf("connect to Temporal at %s: %w", t.Address, err)
	}
	defer c.Close()
	created, err := ensureNamespace(ctx, c, t.Namespace, retention)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(out, "registered namespace %s (retention %s)\n", t.Namespace, retention)
	} else {
		fmt.Fprintf(out, "namespace %s exists\n", t.Namespace)
	}
	if err := waitNamespaceServed(ctx, c, t.Namespace); err != nil {
		return err
	}
	if err := devtemporal.RegisterSearchAttributes(ctx, c, t.Namespace); err != nil {
		return fmt.Errorf("register search attributes on %s: %w", t.Namespace, err)
	}
	fmt.Fprintf(out, "search attributes ready on %s\n", t.Namespace)
	return nil
}

// ensureNamespace registers ns unless it exists; true when it did.
func ensureNamespace(ctx context.Context, c client.Client, ns string, retention time.Duration) (bool, error) {
	svc := c.WorkflowService()
	_, err := svc.DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: ns})
	var nf *serviceerror.NamespaceNotFound
	if err == nil || !errors.As(err, &nf) {
		if err != nil {
			return false, fmt.Errorf("describe namespace %s: %w", ns, err)
		}
		return false, nil
	}
	_, err = svc.RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace: ns, WorkflowExecutionRetentionPeriod: durationpb.New(retention),
		Description: "voxflow calls",
	})
	var exists *serviceerror.NamespaceAlreadyExists
	if errors.As(err, &exists) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("register namespace %s: %w", ns, err)
	}
	return true, nil
}

// waitNamespaceServed waits until the frontend's namespace cache has ns.
func waitNamespaceServed(ctx context.Context, c client.Client, ns string) error {
	ctx, cancel := context.WithTimeout(ctx, namespaceReadyTimeout)
	defer cancel()
	for {
		_, err := c.WorkflowService().ListWorkflowExecutions(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: ns, PageSize: 1})
		var nf *serviceerror.NamespaceNotFound
		if err == nil || !errors.As(err, &nf) {
			if err != nil {
				return fmt.Errorf("namespace %s: %w", ns, err)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("namespace %s registered but not served after %s: %w", ns, namespaceReadyTimeout, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

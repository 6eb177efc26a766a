package cli

import (
	"github.com/spf13/cobra"

	designerapi "github.com/voxflow/voxflow/designer-api"
)

func newOpenAPICmd() *cobra.Command {
	return &cobra.Command{
		Use:   "openapi",
		Short: "Print the designer API's OpenAPI 3.1 document (JSON), e.g. to generate a client",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := designerapi.OpenAPI()
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(b)
			return err
		},
	}
}

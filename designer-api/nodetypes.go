package designerapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/voxflow/voxflow/flows"
)

// NodeTypes describes the flow language's node types for the designer:
// its palette, node colours and icons, ports and the fields a new node
// starts with all come from here (flows.NodeTypes), not from copies in
// the JavaScript.
type NodeTypes struct {
	Groups []flows.NodeGroupInfo `json:"groups" doc:"Palette sections in display order"`
	Exits  []flows.ExitFieldInfo `json:"exits" doc:"Node fields that lead to other nodes, in port order"`
	Types  []flows.NodeTypeInfo  `json:"types" doc:"Node types in the order of the docs and the schema"`
}

type nodeTypesOutput struct {
	Body NodeTypes
}

// registerNodeTypes serves GET /node-types. It needs no store: the answer
// is the flow language of this build.
func (s *server) registerNodeTypes(api huma.API) {
	huma.Register(api, op("list-node-types", http.MethodGet, "/node-types", RoleViewer, "Flows",
		"Node types of the flow language: palette groups, icons, exits and flags"),
		s.listNodeTypes)
}

func (s *server) listNodeTypes(context.Context, *struct{}) (*nodeTypesOutput, error) {
	return &nodeTypesOutput{Body: NodeTypes{Groups: flows.NodeGroups(), Exits: flows.ExitFields(), Types: flows.NodeTypes()}}, nil
}

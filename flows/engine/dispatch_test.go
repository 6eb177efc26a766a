package engine

import (
	"testing"

	"github.com/voxflow/voxflow/flows"
)

// TestEveryNodeTypeHasARunner fails when a node type of the flow language
// has no case in the engine, or the engine has a case for a type the
// language does not know.
func TestEveryNodeTypeHasARunner(t *testing.T) {
	known := map[flows.NodeType]bool{}
	for _, info := range flows.NodeTypes() {
		known[info.Type] = true
		if runners[info.Type] == nil {
			t.Errorf("node type %s has no runner in flows/engine (add it to runners)", info.Type)
		}
	}
	for typ := range runners {
		if !known[typ] {
			t.Errorf("runners has %s, which is not a node type of the flow language", typ)
		}
	}
}

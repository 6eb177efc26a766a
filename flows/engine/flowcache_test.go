package engine

import (
	"strings"
	"testing"

	"github.com/voxflow/voxflow/activities"
)

const cacheFlow = "name: cached\nentry: bye\nnodes:\n  bye:\n    type: hangup\n    say: \"Goodbye {{ call.from }}\"\n"

// Calls share a parsed flow per name, version and source; another source
// (a draft in the simulator) or version is parsed on its own; a flow that
// does not parse is not kept; the cache stays bounded, dropping the least
// recently used.
func TestFlowCache(t *testing.T) {
	fc := newFlowCache(2)
	v1 := activities.FlowSource{Name: "cached", Version: 1, Source: cacheFlow}
	a, diags := fc.parse(v1)
	if diags.Err() != nil {
		t.Fatal(diags.Err())
	}
	if b, _ := fc.parse(v1); b != a {
		t.Error("the same version was parsed twice")
	}
	v2 := v1
	v2.Version = 2
	if b, _ := fc.parse(v2); b == a {
		t.Error("another version got the same parsed flow")
	}
	draft := v1
	draft.Source = strings.Replace(cacheFlow, "Goodbye", "Bye", 1)
	if b, _ := fc.parse(draft); b == a || b.Nodes["bye"].Say.String() == a.Nodes["bye"].Say.String() {
		t.Error("another source under the same name and version got the cached flow")
	}
	// v1 was least recently used: dropped when draft came in.
	if c, _ := fc.parse(v1); c == a {
		t.Error("the least recently used flow was kept past the bound")
	}
	bad := activities.FlowSource{Name: "bad", Version: 1, Source: "name: bad\nentry: nowhere\nnodes: {}\n"}
	if _, diags := fc.parse(bad); diags.Err() == nil {
		t.Fatal("a bad flow parsed")
	}
	if _, ok := fc.byKey[flowKey{"bad", 1, bad.Source}]; ok {
		t.Error("a flow that does not parse was cached")
	}
	if fc.lru.Len() != 2 || len(fc.byKey) != 2 {
		t.Errorf("cache holds %d/%d flows, want the bound 2", fc.lru.Len(), len(fc.byKey))
	}
}

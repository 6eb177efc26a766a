package engine

import (
	"container/list"
	"sync"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/flows"
)

// flowCacheSize bounds the parsed flows kept by a process (published
// versions in use at once, subflows included).
const flowCacheSize = 256

// parsedFlows keeps parsed flows across calls. Parsing a flow (decode,
// validate, compile every expression) costs milliseconds and hundreds of
// kilobytes, and every call and every run of it would parse the same
// published version again. A parsed flow is a pure function of its
// source and the engine never changes one (expressions compile once,
// atomically), so sharing it keeps the workflow deterministic.
var parsedFlows = newFlowCache(flowCacheSize)

func newFlowCache(size int) *flowCache {
	return &flowCache{size: size, byKey: map[flowKey]*list.Element{}, lru: list.New()}
}

type flowKey struct {
	name    string
	version int
	source  string
}

type flowCache struct {
	size  int
	mu    sync.Mutex
	byKey map[flowKey]*list.Element
	lru   *list.List // of *cachedFlow, most recently used first
}

type cachedFlow struct {
	key  flowKey
	flow *flows.Flow
}

// parse returns src parsed, from the cache when another call parsed it.
func (fc *flowCache) parse(src activities.FlowSource) (*flows.Flow, flows.Diagnostics) {
	key := flowKey{src.Name, src.Version, src.Source}
	fc.mu.Lock()
	if e, ok := fc.byKey[key]; ok {
		fc.lru.MoveToFront(e)
		f := e.Value.(*cachedFlow).flow
		fc.mu.Unlock()
		return f, nil
	}
	fc.mu.Unlock()
	f, diags := flows.Parse(src.Name+".yaml", []byte(src.Source))
	if diags.Err() != nil {
		return f, diags
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if e, ok := fc.byKey[key]; ok { // parsed meanwhile by another call
		return e.Value.(*cachedFlow).flow, nil
	}
	fc.byKey[key] = fc.lru.PushFront(&cachedFlow{key: key, flow: f})
	if fc.lru.Len() > fc.size {
		old := fc.lru.Remove(fc.lru.Back()).(*cachedFlow)
		delete(fc.byKey, old.key)
	}
	return f, nil
}

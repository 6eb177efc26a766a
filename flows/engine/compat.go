package engine

import (
	"fmt"
	"strconv"
	"strings"

	"go.temporal.io/sdk/workflow"
)

// A rolling upgrade runs engine workers of two builds side by side. A call
// whose history holds a change's marker (and the new commands after it)
// fails replay on a worker built before the change, and stalls until a
// newer worker takes its task. So the newer build first runs with a compat
// ceiling at the fleet's oldest build, records nothing newer, and the
// ceiling is lifted once no older worker is left (docs/upgrades.md).

// change is one versioned change to the commands CallWorkflow issues: its
// workflow.GetVersion change ID and the version it introduced.
type change struct {
	id      string
	version workflow.Version
}

// changes are the engine's versioned changes in the order they shipped.
// Append only: a compat ceiling names a position in this list.
var changes = []change{
	{changeFastPath, fastPathVersion},
	{changeRouting, routingVersion},
	{changeLocalAI, localAIVersion},
	{changeCallbackRetry, callbackRetryVersion},
}

func (ch change) name() string {
	if ch.version == 1 {
		return ch.id
	}
	return fmt.Sprintf("%s.v%d", ch.id, ch.version)
}

// Changes names the engine's versioned changes in the order they shipped
// (a change's later versions as id.vN): the values of engine.compat.
func Changes() []string {
	names := make([]string, len(changes))
	for i, ch := range changes {
		names[i] = ch.name()
	}
	return names
}

// CompatNone is the ceiling of a build from before every change.
const CompatNone = "none"

// Compat is an engine worker's compatibility ceiling: the last change (of
// Changes) it may record in a call. Above it the worker takes the old path
// and records no marker, issuing the commands of the build from before the
// change; it still replays a marker an uncapped worker recorded, so calls
// move freely between capped and uncapped workers of the same build. It is
// fixed for a worker process. The zero Compat records every change.
type Compat struct {
	capped bool
	n      int // changes[:n] may be recorded
	// before acts as a build from before changes[n]: it never calls
	// GetVersion above the ceiling, not even to replay (tests only).
	before bool
}

// ParseCompat reads a ceiling: "" (every change), "none", a change's name
// or its position in Changes (1-based; 0 is none).
func ParseCompat(s string) (Compat, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "":
		return Compat{}, nil
	case CompatNone:
		return Compat{capped: true}, nil
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 0 && n <= len(changes) {
		return Compat{capped: true, n: n}, nil
	}
	for i, ch := range changes {
		if ch.name() == s {
			return Compat{capped: true, n: i + 1}, nil
		}
	}
	return Compat{}, fmt.Errorf("unknown engine change %q: want %s, one of %s (or its number, 0-%d), or empty for all",
		s, CompatNone, strings.Join(Changes(), ", "), len(changes))
}

// String is the ceiling as ParseCompat reads it.
func (cp Compat) String() string {
	switch {
	case !cp.capped:
		return ""
	case cp.n == 0:
		return CompatNone
	}
	return changes[cp.n-1].name()
}

// ceiling is the highest version of change id this worker may record.
func (cp Compat) ceiling(id string) workflow.Version {
	top := workflow.DefaultVersion
	for i, ch := range changes {
		if ch.id == id && (!cp.capped || i < cp.n) {
			top = max(top, ch.version)
		}
	}
	return top
}

// version is workflow.GetVersion of change id under the ceiling. Replaying,
// a capped worker asks for the latest version, which returns the marker in
// the history (or DefaultVersion where there is none); running, it records
// at most its ceiling, and nothing at all below the change.
func (cp Compat) version(ctx workflow.Context, id string) workflow.Version {
	latest, allowed := Compat{}.ceiling(id), cp.ceiling(id)
	if latest == workflow.DefaultVersion {
		panic(fmt.Sprintf("engine change %q is not listed in changes (compat.go)", id))
	}
	switch {
	case allowed >= latest, !cp.before && workflow.IsReplaying(ctx):
		return workflow.GetVersion(ctx, id, workflow.DefaultVersion, latest)
	case allowed == workflow.DefaultVersion:
		return workflow.DefaultVersion
	}
	return workflow.GetVersion(ctx, id, workflow.DefaultVersion, allowed)
}

// version is the version of change id this run takes, decided once per
// run: a capped worker that replayed a newer marker must keep to it when
// it meets the change again after the replay.
func (c *call) version(id string) workflow.Version {
	if v, ok := c.versions[id]; ok {
		return v
	}
	v := c.compat.version(c.ctx, id)
	if c.versions == nil {
		c.versions = map[string]workflow.Version{}
	}
	c.versions[id] = v
	return v
}

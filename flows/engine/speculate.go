package engine

import (
	"maps"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/flows"
)

// maxSpeculated bounds the nodes walked to find what a key leads to.
const maxSpeculated = 32

// thenPrompts works out, for each option key of a menu, the prompts the
// caller hears next: the walk through the pure nodes after the option
// (set, branch, play, hours, distribute) to the next menu, gather or
// hangup. A key whose path needs I/O or fails to evaluate is left out. It
// runs the same code as the nodes, on a copy of the variables, so it is as
// deterministic as they are; the real run confirms it.
func (c *call) thenPrompts(f *flows.Flow, n *flows.Node, keys []string) map[string][]activities.Prompt {
	if c.hungUp || len(c.stack) != 1 {
		return nil // subflow returns are not walked
	}
	var out map[string][]activities.Prompt
	for _, k := range keys {
		ps, ok := c.speculate(f, n.Options[k].Next, k)
		if !ok || len(ps) == 0 {
			continue
		}
		if out == nil {
			out = map[string][]activities.Prompt{}
		}
		out[k] = ps
	}
	return out
}

// speculate walks from node id with the caller's input and returns the
// prompts of the media activity it would reach.
func (c *call) speculate(f *flows.Flow, id, input string) ([]activities.Prompt, bool) {
	env := c.env()
	env.Input = input
	env.Vars = maps.Clone(env.Vars)
	var pending []activities.Prompt // this menu's collect takes what is held now
	for i := 0; i < maxSpeculated && id != ""; i++ {
		n := f.Nodes[id]
		if n == nil {
			return nil, false
		}
		var next string
		var err error
		switch n.Type {
		case flows.TypeSet:
			err, next = assignInto(env.Vars, n.Assign, env), n.Next
		case flows.TypeBranch:
			_, next, err = branchExit(n, env)
		case flows.TypeHours:
			_, next, err = c.runHours(f, n)
		case flows.TypeDistribute:
			_, next, err = c.runDistribute(f, n)
		case flows.TypePlay:
			var ps []activities.Prompt
			ps, err = renderPrompt(f, n.ID, n.Say, n.Audio, env)
			pending, next = append(pending, ps...), n.Next
		case flows.TypeMenu, flows.TypeGather:
			return speculatedTurn(f, n, env, pending)
		case flows.TypeHangup:
			ps, err := renderPrompt(f, n.ID, n.Say, n.Audio, env)
			return append(pending, ps...), err == nil
		default:
			return nil, false // needs I/O or leaves the flow
		}
		if err != nil {
			return nil, false
		}
		id = next
	}
	return nil, false
}

// speculatedTurn is the first turn of a menu or gather reached with
// pending prompts: what its collect will say.
func speculatedTurn(f *flows.Flow, n *flows.Node, env *flows.Env, pending []activities.Prompt) ([]activities.Prompt, bool) {
	main, err := renderPrompt(f, n.ID, n.Prompt, n.Audio, env)
	if err != nil {
		return nil, false
	}
	return append(pending, main...), true
}

package routing

import (
	"cmp"
	"slices"
)

// pool is the free agents during one Assign pass.
type pool struct {
	agents  []Agent
	active  []int     // Active per agent, counting this pass's matches
	limit   []int     // capacity per agent
	order   []int32   // agents free at the start, longest idle first, then by Name
	byQueue [][]int32 // order filtered per queue, built when a queue is first asked for
	queues  []string  // the queue of each byQueue entry
	free    int       // free call slots left over all agents
}

func newPool(agents []Agent) *pool {
	p := &pool{agents: agents}
	for i := range agents {
		if n := agents[i].Free(); n > 0 {
			p.free += n
			p.order = append(p.order, int32(i))
		}
	}
	if p.free == 0 {
		return p
	}
	p.active = make([]int, len(agents))
	p.limit = make([]int, len(agents))
	for i := range agents {
		p.active[i] = agents[i].Active
		p.limit[i] = capacityOf(agents[i].Capacity)
	}
	slices.SortFunc(p.order, func(i, j int32) int {
		a, b := &agents[i], &agents[j]
		if c := a.IdleSince.Compare(b.IdleSince); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return cmp.Compare(i, j)
	})
	return p
}

// serving returns the free-at-start agents of queue, in pool order. Queues
// in one pass are few, so a slice beats a map.
func (p *pool) serving(queue string) []int32 {
	for i, q := range p.queues {
		if q == queue {
			return p.byQueue[i]
		}
	}
	var list []int32
	for _, a := range p.order {
		if p.agents[a].Serves(queue) {
			list = append(list, a)
		}
	}
	p.queues = append(p.queues, queue)
	p.byQueue = append(p.byQueue, list)
	return list
}

// best returns the agent for a waiter, or -1: among free agents of queue
// that meet needs and are not skipped, the fewest active, then pool order.
func (p *pool) best(queue string, needs []Requirement, skip []string) int {
	best := -1
	for _, a := range p.serving(queue) {
		act := p.active[a]
		if act >= p.limit[a] || best >= 0 && act >= p.active[best] {
			continue
		}
		ag := &p.agents[a]
		if !ag.Skills.Meets(needs) || len(skip) > 0 && containsString(skip, ag.Name) {
			continue
		}
		best = int(a)
		if act == 0 {
			break // nobody can have fewer, and later agents idled less long
		}
	}
	return best
}

func (p *pool) take(a int) {
	p.active[a]++
	p.free--
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// missCache remembers (queue, needs) pairs no free agent met in this pass.
// A short list compared in place: no key to build, no allocation per waiter.
type missCache struct {
	queues []string
	needs  [][]Requirement
}

const maxMisses = 32

func (m *missCache) has(queue string, needs []Requirement) bool {
	for i, n := range m.needs {
		if len(n) == len(needs) && m.queues[i] == queue && equalNeeds(n, needs) {
			return true
		}
	}
	return false
}

func (m *missCache) add(queue string, needs []Requirement) {
	if len(m.queues) < maxMisses {
		m.queues = append(m.queues, queue)
		m.needs = append(m.needs, needs)
	}
}

func equalNeeds(a, b []Requirement) bool {
	for i := range a {
		if a[i].Level != b[i].Level || a[i].Skill != b[i].Skill {
			return false
		}
	}
	return true
}

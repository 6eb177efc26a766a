package registrar

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Contact is a live binding of an agent to a contact URI: where requests
// for the agent go until Expires.
//
// To reach the agent, put URI in the Request-URI and send to Source over
// Transport when Source is set: that is the address the REGISTER came from
// (received/rport, RFC 3581), which is the only one that works for a phone
// behind NAT, while URI's host may be a private address. For TCP and TLS the
// connection the agent opened is held by the media worker WorkerID.
type Contact struct {
	User      string    // the agent: the account username, the AOR's user part
	URI       string    // contact URI as registered, e.g. sip:alice@192.168.1.20:5062;transport=udp
	Source    string    // host:port the REGISTER came from
	Transport string    // transport it came over: UDP, TCP, TLS, WS...
	Expires   time.Time // when the binding ends unless refreshed
	WorkerID  string    // media worker that took the registration
	CallID    string    // Call-ID and CSeq of the REGISTER that wrote it (RFC 3261 §10.3 step 7)
	CSeq      uint32
	UserAgent string // User-Agent header of the phone, if any
}

// Change is what a REGISTER does to an agent's bindings: contacts to add or
// refresh (by URI) and contact URIs to remove.
type Change struct {
	Put    []Contact
	Remove []string
}

// Locations holds the bindings (the location service of RFC 3261 §10). It
// is shared by every media worker, so an agent that registered on one
// worker can be reached from any other: platform/sipmedia.RegistrarStore
// keeps them in the store. Bindings whose Expires is not after now are dead: implementations
// ignore them and may delete them at any time.
type Locations interface {
	// Contacts returns user's live bindings at now, latest expiry first.
	Contacts(ctx context.Context, user string, now time.Time) ([]Contact, error)
	// Update changes user's bindings atomically: fn gets the live ones at
	// now, and the Change it returns is applied unless it returns an error,
	// which Update returns wrapped. It returns the live bindings after.
	// fn may be called more than once and must have no side effects.
	Update(ctx context.Context, user string, now time.Time, fn func(live []Contact) (Change, error)) ([]Contact, error)
	// Purge deletes every binding expired at now and says how many.
	Purge(ctx context.Context, now time.Time) (int64, error)
}

// Expiry is the registrar's interval policy (RFC 3261 §10.2.1.1, §10.3
// step 7), in whole seconds.
type Expiry struct {
	Default, Min, Max int
}

// interval is how long a contact is bound for: its expires parameter, else
// the Expires header, else the default; capped at Max. A non-zero interval
// below Min is too brief (423); zero removes the binding.
func (e Expiry) interval(param, header *uint64) (secs int, tooBrief bool) {
	v := uint64(e.Default)
	switch {
	case param != nil:
		v = *param
	case header != nil:
		v = *header
	}
	if v == 0 {
		return 0, false
	}
	if v < uint64(e.Min) {
		return int(v), true
	}
	if v > uint64(e.Max) {
		return e.Max, false
	}
	return int(v), false
}

// binding is one Contact of a REGISTER, its interval decided.
type binding struct {
	uri     string
	expires int // seconds; 0 removes
}

// registerRequest is what a REGISTER asks, parsed and authorised.
type registerRequest struct {
	user      string
	wildcard  bool // Contact: * (remove all)
	bindings  []binding
	callID    string
	cseq      uint32
	source    string
	transport string
	userAgent string
	workerID  string
}

// plan decides the Change a REGISTER makes to the live bindings at now
// (RFC 3261 §10.3 steps 6-8). For each binding the REGISTER touches that
// was written with the same Call-ID, the CSeq must be higher, else the
// request is out of order and nothing changes (ErrOutOfOrder).
func plan(live []Contact, rq registerRequest, now time.Time) (Change, error) {
	byURI := make(map[string]Contact, len(live))
	for _, c := range live {
		byURI[c.URI] = c
	}
	inOrder := func(c Contact) error {
		if c.CallID == rq.callID && rq.cseq <= c.CSeq {
			return fmt.Errorf("%w: CSeq %d for %s, binding written by CSeq %d of the same Call-ID", ErrOutOfOrder, rq.cseq, c.URI, c.CSeq)
		}
		return nil
	}
	var ch Change
	if rq.wildcard {
		for _, c := range live {
			if err := inOrder(c); err != nil {
				return Change{}, err
			}
			ch.Remove = append(ch.Remove, c.URI)
		}
		return ch, nil
	}
	for _, b := range rq.bindings {
		if old, ok := byURI[b.uri]; ok {
			if err := inOrder(old); err != nil {
				return Change{}, err
			}
		}
		if b.expires == 0 {
			if _, ok := byURI[b.uri]; ok {
				ch.Remove = append(ch.Remove, b.uri)
			}
			continue
		}
		ch.Put = append(ch.Put, Contact{
			User: rq.user, URI: b.uri, Source: rq.source, Transport: rq.transport,
			Expires: now.Add(time.Duration(b.expires) * time.Second), WorkerID: rq.workerID,
			CallID: rq.callID, CSeq: rq.cseq, UserAgent: rq.userAgent,
		})
	}
	return ch, nil
}

// MemoryLocations keeps bindings in this process only: for tests and for a
// single media worker that needs no store. The zero value is ready.
type MemoryLocations struct {
	mu    sync.Mutex
	users map[string]map[string]Contact
}

func sortContacts(cs []Contact) {
	sort.Slice(cs, func(i, j int) bool {
		if !cs[i].Expires.Equal(cs[j].Expires) {
			return cs[i].Expires.After(cs[j].Expires)
		}
		return cs[i].URI < cs[j].URI
	})
}

func (m *MemoryLocations) live(user string, now time.Time) []Contact {
	out := []Contact{}
	for _, c := range m.users[user] {
		if c.Expires.After(now) {
			out = append(out, c)
		}
	}
	sortContacts(out)
	return out
}

// Contacts implements Locations.
func (m *MemoryLocations) Contacts(ctx context.Context, user string, now time.Time) ([]Contact, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.live(user, now), nil
}

// Update implements Locations.
func (m *MemoryLocations) Update(ctx context.Context, user string, now time.Time, fn func(live []Contact) (Change, error)) ([]Contact, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ch, err := fn(m.live(user, now))
	if err != nil {
		return nil, fmt.Errorf("update bindings of %q: %w", user, err)
	}
	if m.users == nil {
		m.users = map[string]map[string]Contact{}
	}
	bs := m.users[user]
	if bs == nil {
		bs = map[string]Contact{}
		m.users[user] = bs
	}
	for uri, c := range bs {
		if !c.Expires.After(now) {
			delete(bs, uri)
		}
	}
	for _, uri := range ch.Remove {
		delete(bs, uri)
	}
	for _, c := range ch.Put {
		c.User = user
		bs[c.URI] = c
	}
	return m.live(user, now), nil
}

// Purge implements Locations.
func (m *MemoryLocations) Purge(ctx context.Context, now time.Time) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for user, bs := range m.users {
		for uri, c := range bs {
			if !c.Expires.After(now) {
				delete(bs, uri)
				n++
			}
		}
		if len(bs) == 0 {
			delete(m.users, user)
		}
	}
	return n, nil
}

package registrar

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

func u64(v uint64) *uint64 { return &v }

func TestExpiryInterval(t *testing.T) {
	e := Expiry{Default: 3600, Min: 60, Max: 7200}
	cases := []struct {
		name          string
		param, header *uint64
		want          int
		tooBrief      bool
	}{
		{"nothing given: default", nil, nil, 3600, false},
		{"header", nil, u64(600), 600, false},
		{"param wins over header", u64(120), u64(600), 120, false},
		{"param 0 removes despite header", u64(0), u64(600), 0, false},
		{"header 0 removes", nil, u64(0), 0, false},
		{"param wins over header 0", u64(300), u64(0), 300, false},
		{"exactly the minimum", nil, u64(60), 60, false},
		{"below the minimum", nil, u64(59), 59, true},
		{"param below the minimum", u64(1), u64(3600), 1, true},
		{"exactly the maximum", u64(7200), nil, 7200, false},
		{"above the maximum is capped", u64(7201), nil, 7200, false},
		{"huge is capped", nil, u64(1<<32 - 1), 7200, false},
	}
	for _, c := range cases {
		got, tooBrief := e.interval(c.param, c.header)
		if got != c.want || tooBrief != c.tooBrief {
			t.Errorf("%s: interval = %d, %v; want %d, %v", c.name, got, tooBrief, c.want, c.tooBrief)
		}
	}
}

func TestPlan(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	a := Contact{User: "alice", URI: "sip:alice@192.0.2.1", CallID: "c1", CSeq: 5, Expires: now.Add(time.Minute)}
	b := Contact{User: "alice", URI: "sip:alice@192.0.2.2", CallID: "c2", CSeq: 1, Expires: now.Add(time.Hour)}
	req := func(callID string, cseq uint32, bs ...binding) registerRequest {
		return registerRequest{user: "alice", callID: callID, cseq: cseq, source: "198.51.100.1:5060",
			transport: "UDP", workerID: "w", userAgent: "ua", bindings: bs}
	}
	put := func(uri, callID string, cseq uint32, secs int) Contact {
		return Contact{User: "alice", URI: uri, Source: "198.51.100.1:5060", Transport: "UDP", WorkerID: "w",
			UserAgent: "ua", CallID: callID, CSeq: cseq, Expires: now.Add(time.Duration(secs) * time.Second)}
	}
	cases := []struct {
		name string
		live []Contact
		rq   registerRequest
		want Change
		err  error
	}{
		{"add", nil, req("c1", 1, binding{"sip:alice@192.0.2.1", 600}),
			Change{Put: []Contact{put("sip:alice@192.0.2.1", "c1", 1, 600)}}, nil},
		{"refresh: same Call-ID, higher CSeq", []Contact{a}, req("c1", 6, binding{a.URI, 3600}),
			Change{Put: []Contact{put(a.URI, "c1", 6, 3600)}}, nil},
		{"same Call-ID, same CSeq: out of order", []Contact{a}, req("c1", 5, binding{a.URI, 3600}), Change{}, ErrOutOfOrder},
		{"same Call-ID, lower CSeq: out of order", []Contact{a}, req("c1", 4, binding{a.URI, 0}), Change{}, ErrOutOfOrder},
		{"another Call-ID replaces whatever its CSeq (phone rebooted)", []Contact{a}, req("c9", 1, binding{a.URI, 60}),
			Change{Put: []Contact{put(a.URI, "c9", 1, 60)}}, nil},
		{"remove one of two", []Contact{a, b}, req("c2", 2, binding{b.URI, 0}), Change{Remove: []string{b.URI}}, nil},
		{"remove an unknown contact: nothing", []Contact{a}, req("c1", 9, binding{"sip:nobody@192.0.2.9", 0}), Change{}, nil},
		{"add one, remove one", []Contact{a}, req("c1", 9, binding{a.URI, 0}, binding{"sip:alice@192.0.2.3", 120}),
			Change{Put: []Contact{put("sip:alice@192.0.2.3", "c1", 9, 120)}, Remove: []string{a.URI}}, nil},
		{"wildcard removes all", []Contact{a, b}, registerRequest{wildcard: true, callID: "c3", cseq: 1},
			Change{Remove: []string{a.URI, b.URI}}, nil},
		{"wildcard, out of order for one binding: nothing", []Contact{a, b}, registerRequest{wildcard: true, callID: "c2", cseq: 1},
			Change{}, ErrOutOfOrder},
		{"wildcard with nothing bound", nil, registerRequest{wildcard: true, callID: "c1", cseq: 1}, Change{}, nil},
	}
	for _, c := range cases {
		got, err := plan(c.live, c.rq, now)
		if !errors.Is(err, c.err) || (c.err == nil && err != nil) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, got, c.want)
		}
	}
}

func TestMemoryLocations(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	var m MemoryLocations
	live, err := m.Update(ctx, "alice", now, func(live []Contact) (Change, error) {
		return Change{Put: []Contact{
			{URI: "sip:a@1", Expires: now.Add(time.Minute)},
			{URI: "sip:a@2", Expires: now.Add(time.Hour)},
		}}, nil
	})
	if err != nil || len(live) != 2 || live[0].URI != "sip:a@2" || live[1].User != "alice" {
		t.Fatalf("after put: %+v, %v", live, err)
	}
	if cs, _ := m.Contacts(ctx, "alice", now.Add(2*time.Minute)); len(cs) != 1 || cs[0].URI != "sip:a@2" {
		t.Fatalf("after a minute: %+v", cs)
	}
	if n, _ := m.Purge(ctx, now.Add(2*time.Minute)); n != 1 {
		t.Fatalf("purged %d", n)
	}
	boom := errors.New("boom")
	if _, err := m.Update(ctx, "alice", now, func([]Contact) (Change, error) { return Change{}, boom }); !errors.Is(err, boom) {
		t.Fatalf("fn error: %v", err)
	}
	if cs, _ := m.Contacts(ctx, "bob", now); len(cs) != 0 {
		t.Fatalf("bob: %+v", cs)
	}
}

package nlu

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/voxflow/voxflow/activities"
)

// maxCachedSets bounds the compiled intent sets a Matcher keeps; flows
// have few intent nodes, so the cache is simply emptied when full.
const maxCachedSets = 256

// Matcher is the offline intent classifier. It is safe for concurrent
// use; it compiles each distinct intent set once and keeps it, keyed by
// the set's content.
type Matcher struct {
	mu    sync.Mutex
	cache map[[sha256.Size]byte]*intentIndex
}

// NewMatcher returns a Matcher with an empty cache.
func NewMatcher() *Matcher {
	return &Matcher{cache: map[[sha256.Size]byte]*intentIndex{}}
}

// Classify picks the intent of in.Utterance among in.Intents and fills
// its slots. It always returns the best intent with its confidence in
// [0, 1] (the engine compares it with the node's min_confidence), and
// Intent "" only when no word of the utterance relates to any intent. On
// a follow-up turn (in.Intent set) the utterance answers the wanted
// slots of that intent: the result is that intent with confidence 1.
func (m *Matcher) Classify(in activities.IntentInput) (activities.IntentResult, error) {
	if err := checkIntents(in.Intents); err != nil {
		return activities.IntentResult{}, fmt.Errorf("classify node %q: %w", in.NodeID, err)
	}
	loc := location(in.TimeZone)
	res := activities.IntentResult{Sentiment: Sentiment(in.Utterance), Source: activities.SourceOffline}
	if in.Intent != "" {
		k := slices.IndexFunc(in.Intents, func(d activities.IntentDef) bool { return d.Name == in.Intent })
		if k < 0 {
			return activities.IntentResult{}, fmt.Errorf("classify node %q: follow-up of %q: %w", in.NodeID, in.Intent, ErrUnknownIntent)
		}
		res.Intent, res.Confidence = in.Intent, 1
		res.Slots = followUpSlots(in.Utterance, in.Intents[k].Slots, in.Want, in.Now, loc)
		return res, nil
	}
	ix := m.index(in.Intents)
	mw := ix.matchWords(contentWords(tokenize(in.Utterance)))
	ranked := ix.rank(mw)
	if ranked[0].raw <= 0 {
		return res, nil
	}
	second := 0.0
	if len(ranked) > 1 {
		second = ranked[1].raw
	}
	best := ix.intents[ranked[0].index]
	res.Intent = best.def.Name
	res.Confidence = confidence(ranked[0].raw, second)
	res.Slots = firstTurnSlots(in.Utterance, best, mw, in.Now, loc)
	return res, nil
}

// checkIntents reports an empty intent set and unknown slot types.
func checkIntents(defs []activities.IntentDef) error {
	if len(defs) == 0 {
		return ErrNoIntents
	}
	for _, d := range defs {
		for _, s := range d.Slots {
			if !slices.Contains(activities.SlotTypes, s.Type) {
				return fmt.Errorf("intent %q slot %q: %w %q", d.Name, s.Name, ErrUnknownSlotType, s.Type)
			}
		}
	}
	return nil
}

// zones caches loaded time zones by name: loading reads the zone
// database.
var zones sync.Map

// location loads an IANA zone; "" or an unknown zone is UTC (the flow
// validator checks zones; a call must not fail over one).
func location(name string) *time.Location {
	if name == "" {
		return time.UTC
	}
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc = time.UTC
	}
	zones.Store(name, loc)
	return loc
}

// index returns the compiled form of defs, compiling it once.
func (m *Matcher) index(defs []activities.IntentDef) *intentIndex {
	key := setKey(defs)
	m.mu.Lock()
	ix, ok := m.cache[key]
	m.mu.Unlock()
	if ok {
		return ix
	}
	ix = buildIndex(defs)
	m.mu.Lock()
	if len(m.cache) >= maxCachedSets {
		clear(m.cache)
	}
	m.cache[key] = ix
	m.mu.Unlock()
	return ix
}

// setKey identifies an intent set by its content: every string and list
// of it, each preceded by its length, so that no two sets share an
// encoding.
func setKey(defs []activities.IntentDef) [sha256.Size]byte {
	h := sha256.New()
	num := func(n int) {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(n))
		h.Write(b[:])
	}
	put := func(ss ...string) {
		num(len(ss))
		for _, s := range ss {
			num(len(s))
			h.Write([]byte(s))
		}
	}
	num(len(defs))
	for _, d := range defs {
		put(d.Name, d.Description)
		put(d.Examples...)
		num(len(d.Slots))
		for _, s := range d.Slots {
			put(s.Name, s.Type)
			put(s.Values...)
		}
	}
	var key [sha256.Size]byte
	h.Sum(key[:0])
	return key
}

// followUpSlots reads an answer: the wanted slots loosely (a bare "4471"
// is the account), the others strictly; a wanted text slot takes the
// whole answer.
func followUpSlots(text string, defs []activities.SlotDef, want []string, now time.Time, loc *time.Location) map[string]any {
	out := extract(text, defs, want, now, loc)
	for _, w := range want {
		k := slices.IndexFunc(defs, func(d activities.SlotDef) bool { return d.Name == w })
		if k < 0 || defs[k].Type != activities.SlotText {
			continue
		}
		if t := strings.TrimSpace(text); t != "" {
			out[w] = t
			break
		}
	}
	return nilIfEmpty(out)
}

// firstTurnSlots fills the chosen intent's slots from the utterance that
// chose it. A text slot takes what the caller said after the last word
// that matched the intent ("cancel my service because it is too
// expensive" gives "because it is too expensive"), when that holds a
// content word; else it stays empty for the flow to ask.
func firstTurnSlots(text string, in indexedIntent, mw []matchedWord, now time.Time, loc *time.Location) map[string]any {
	out := extract(text, in.def.Slots, nil, now, loc)
	k := slices.IndexFunc(in.def.Slots, func(d activities.SlotDef) bool { return d.Type == activities.SlotText })
	if k < 0 {
		return nilIfEmpty(out)
	}
	end := 0
	for _, m := range mw {
		for t := range m.terms {
			if in.bag[t] > 0 {
				end = max(end, m.end)
			}
		}
	}
	rest := strings.TrimSpace(strings.TrimLeft(text[end:], " ,.;:!?-"))
	if end > 0 && len(contentWords(tokenize(rest))) > 0 {
		out[in.def.Slots[k].Name] = rest
	}
	return nilIfEmpty(out)
}

func nilIfEmpty(m map[string]any) map[string]any {
	if len(m) == 0 {
		return nil
	}
	return m
}

package redact

type unitKind uint8

const (
	unitWord   unitKind = iota + 1 // a word that is not a digit
	unitPhrase                     // a keyword phrase
	unitNumber                     // items of a chain that no window masked
	unitMark                       // a mark of the text, or one written here
)

// unit is what context rules read: the text as words, phrases, numbers
// and marks. A zero unit is nothing (what maskUnits merged away).
type unit struct {
	kind       unitKind
	start, end int
	items      []item       // unitNumber
	rule       *contextRule // unitPhrase
	mark       string       // unitMark
	// replace says that mark replaces s[start:end].
	replace bool
}

// unitBuilder turns tokens and chains into units, in text order.
type unitBuilder struct {
	s       string
	toks    []token
	phrases []phraseMatch
	units   []unit
}

// addTokens adds the tokens [from, to), which hold no item.
func (b *unitBuilder) addTokens(from, to int) {
	for i := from; i < to; {
		t := b.toks[i]
		if len(b.phrases) > 0 && b.phrases[0].from == i {
			p := b.phrases[0]
			b.phrases = b.phrases[1:]
			b.units = append(b.units, unit{kind: unitPhrase, start: t.start, end: b.toks[p.to-1].end, rule: p.rule})
			i = p.to
			continue
		}
		switch t.kind {
		case tokenMark:
			b.units = append(b.units, unit{kind: unitMark, start: t.start, end: t.end, mark: t.key})
		default:
			b.units = append(b.units, unit{kind: unitWord, start: t.start, end: t.end})
		}
		i++
	}
}

// addChain adds a chain as marks (its windows) and numbers (the rest).
func (b *unitBuilder) addChain(chain []item, ws []window) {
	from := 0
	for k := 0; k <= len(ws); k++ {
		to := len(chain)
		if k < len(ws) {
			to = ws[k].from
		}
		if to > from {
			b.units = append(b.units, unit{kind: unitNumber, start: chain[from].start, end: chain[to-1].end, items: chain[from:to]})
		}
		if k < len(ws) {
			w := ws[k]
			b.units = append(b.units, unit{kind: unitMark, start: chain[w.from].start, end: chain[w.to-1].end, mark: w.mark, replace: true})
			from = w.to
		}
	}
}

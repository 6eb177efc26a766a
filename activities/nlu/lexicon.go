package nlu

import "slices"

// synonymGroups are contact-centre words that mean the same for routing.
// A word matches another of its group at synonymWeight. Words may sit in
// several groups. They are stemmed when the package loads.
var synonymGroups = [][]string{
	{"agent", "representative", "rep", "operator", "person", "human", "someone", "somebody",
		"advisor", "adviser", "staff", "associate", "supervisor", "manager", "attendant",
		"customerservice", "putthrough", "people", "receptionist", "employee"},
	{"speak", "talk", "chat", "converse", "discuss"},
	{"cancel", "terminate", "discontinue", "disconnect", "shutoff", "end", "stop",
		"quit", "cease", "cancellation"},
	{"bill", "invoice", "statement", "billing", "charges"},
	{"pay", "payment", "settle", "paying"},
	{"balance", "howmuch", "owe", "due", "outstanding", "arrears", "owing", "overdue"},
	{"card", "visa", "mastercard", "amex", "credit", "debit", "cheque"},
	{"internet", "wifi", "broadband", "online", "web", "net", "fibre", "fiber"},
	{"tv", "television", "cable", "telly", "channels"},
	{"phone", "landline", "telephone", "dialtone"},
	{"mobile", "cell", "cellphone", "cellular", "smartphone", "sim"},
	{"broken", "faulty", "dead", "problem", "issue", "trouble", "fault", "error", "work",
		"glitch", "malfunction", "broke"},
	{"slow", "sluggish", "lag", "laggy", "buffering", "speed"},
	{"drop", "cutout", "freeze", "frozen", "intermittent", "flicker", "dropout"},
	{"router", "modem", "hub", "box", "equipment", "device", "receiver"},
	{"reset", "restart", "reboot"},
	{"technical", "tech", "technician", "engineer"},
	{"support", "help", "assistance", "assist"},
	{"buy", "get", "become", "purchase", "order", "signup", "subscribe", "join", "sell"},
	{"deal", "offer", "promotion", "promo", "discount", "special", "bargain"},
	{"plan", "package", "bundle", "tariff", "subscription"},
	{"upgrade", "improve", "increase", "boost", "faster"},
	{"add", "additional", "extra", "another"},
	{"move", "relocate", "moving", "relocating"},
	{"home", "house", "apartment", "flat", "place", "property", "residence", "condo"},
	{"address", "mailing", "postal"},
	{"hours", "opening", "open", "schedule", "timetable"},
	{"store", "shop", "branch", "office", "outlet", "showroom"},
	{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
		"weekend", "weekday", "weekdays", "holiday", "holidays"},
	{"outage", "interruption", "disruption", "blackout", "downtime", "powercut"},
	{"down", "offline"},
	{"area", "neighbourhood", "neighborhood", "street", "region", "town", "city",
		"building", "block", "zone", "nearby", "near", "local", "vicinity"},
	{"whole", "everyone", "everybody", "entire", "nobody", "neighbors", "neighbours"},
	{"report", "notify", "inform"},
	{"change", "update", "modify", "amend", "correct", "edit"},
	{"contract", "agreement"},
	{"money", "cash", "funds", "amount"},
}

// phrases rewrite word sequences into one word before matching, so that
// "customer service" is not two weak words and "sign me up" is one.
var phrases = []struct {
	words []string
	as    string
}{
	{[]string{"customer", "service"}, "customerservice"},
	{[]string{"customer", "care"}, "customerservice"},
	{[]string{"customer", "support"}, "customerservice"},
	{[]string{"put", "me", "through"}, "putthrough"},
	{[]string{"put", "through"}, "putthrough"},
	{[]string{"connect", "me", "to"}, "putthrough"},
	{[]string{"connect", "me", "with"}, "putthrough"},
	{[]string{"transfer", "me", "to"}, "putthrough"},
	{[]string{"how", "much"}, "howmuch"},
	{[]string{"sign", "me", "up"}, "signup"},
	{[]string{"sign", "up"}, "signup"},
	{[]string{"signing", "up"}, "signup"},
	{[]string{"wi", "fi"}, "wifi"},
	{[]string{"e", "mail"}, "email"},
	{[]string{"dial", "tone"}, "dialtone"},
	{[]string{"cut", "out"}, "cutout"},
	{[]string{"cuts", "out"}, "cutout"},
	{[]string{"cutting", "out"}, "cutout"},
	{[]string{"shut", "off"}, "shutoff"},
	{[]string{"turn", "off"}, "shutoff"},
	{[]string{"switch", "off"}, "shutoff"},
	{[]string{"stopped", "working"}, "broken"},
	{[]string{"stop", "working"}, "broken"},
	{[]string{"power", "cut"}, "powercut"},
	{[]string{"power", "outage"}, "powercut"},
	{[]string{"set", "up"}, "setup"},
	{[]string{"went", "out"}, "down"},
	{[]string{"gone", "out"}, "down"},
}

// synonymWeight is how much a synonym match counts against an exact one.
const synonymWeight = 0.85

// synonyms maps a stem to the other stems of its groups, sorted.
var synonyms = buildSynonyms(synonymGroups)

func buildSynonyms(groups [][]string) map[string][]string {
	m := map[string][]string{}
	for _, g := range groups {
		stems := make([]string, len(g))
		for i, w := range g {
			stems[i] = stem(w)
		}
		for _, s := range stems {
			for _, o := range stems {
				if o != s && !slices.Contains(m[s], o) {
					m[s] = append(m[s], o)
				}
			}
		}
	}
	for _, v := range m {
		slices.Sort(v)
	}
	return m
}

// rewritePhrases replaces phrases by their one-word form; the word keeps
// the span of the whole phrase.
func rewritePhrases(ts []token) []token {
	out := make([]token, 0, len(ts))
	for i := 0; i < len(ts); {
		n, as := matchPhrase(ts, i)
		if n == 0 {
			out = append(out, ts[i])
			i++
			continue
		}
		out = append(out, token{text: as, start: ts[i].start, end: ts[i+n-1].end})
		i += n
	}
	return out
}

func matchPhrase(ts []token, i int) (int, string) {
	for _, p := range phrases {
		if i+len(p.words) > len(ts) {
			continue
		}
		ok := true
		for k, w := range p.words {
			if ts[i+k].text != w {
				ok = false
				break
			}
		}
		if ok {
			return len(p.words), p.as
		}
	}
	return 0, ""
}

package flows

import (
	"maps"

	"github.com/goccy/go-yaml/ast"
	"regexp"
	"slices"
	"strings"
)

// Checks of the AI nodes (intent and llm): their intents, slots and tools
// are small mappings of their own, validated here.

// Fields of the mappings inside intent and llm nodes.
var (
	intentFields = []fieldSpec{
		{Name: "description", Kind: kindString, Doc: "What the intent means, for the model."},
		{Name: "examples", Kind: kindStrings, Doc: "Phrases a caller might say (they train the offline matcher and bias speech recognition)."},
		{Name: "slots", Kind: kindMap, Doc: "Values the intent carries into vars.<name>: type, required, ask, values, description."},
		{Name: "next", Kind: kindNodeRef, Doc: "Node taken when this intent is recognised."},
	}
	slotFields = []fieldSpec{
		{Name: "type", Kind: kindEnum, Enum: slotTypes, Doc: "Kind of value."},
		{Name: "description", Kind: kindString, Doc: "What the value is, for the model."},
		{Name: "required", Kind: kindBool, Doc: "Ask for it when the caller did not say it.", Default: false},
		{Name: "ask", Kind: kindTemplate, Doc: "Question asked when a required slot is missing (template)."},
		{Name: "values", Kind: kindStrings, Doc: "enum: the values accepted."},
	}
	toolFields = []fieldSpec{
		{Name: "description", Kind: kindString, Doc: "When the model should call it."},
		{Name: "params", Kind: kindMap, Doc: "Parameters by name: string, number, integer or boolean."},
		{Name: "next", Kind: kindNodeRef, Doc: "A flow exit: the node taken when the model calls it (parameters become variables)."},
		{Name: "activity", Kind: kindString, Doc: "A registered activity run with the parameters as input; its result goes back to the model."},
	}
	// toolName is what OpenAI-compatible APIs accept as a function name.
	toolName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

// applyAIDefaults fills the AI fields a node left out.
func applyAIDefaults(n *Node, a map[string]bool) {
	if a["min_confidence"] && n.MinConfidence == nil {
		c := DefaultMinConfidence
		n.MinConfidence = &c
	}
	if a["speak"] && n.Speak == nil {
		t := true
		n.Speak = &t
	}
	if a["max_tokens"] && n.MaxTokens == 0 {
		n.MaxTokens = DefaultMaxTokens
	}
	if n.Type == TypeIntent && n.Retries == nil {
		r := 1
		n.Retries = &r
	}
}

// checkIntents reports intents without a next node or anything to
// recognise them by, and bad slots.
func (v *validator) checkIntents(n *Node) {
	d, id := v.d, n.ID
	v.checkAITurns(n)
	if n.MinConfidence != nil && (*n.MinConfidence < 0 || *n.MinConfidence > 1) {
		d.errPath(v.nodePath(id, "min_confidence"), "min_confidence %v is out of range: use a number from 0 to 1", *n.MinConfidence)
	}
	if n.Intents != nil && len(n.Intents) == 0 {
		d.errPath(v.nodePath(id, "intents"), "intent node %s has no intents: declare at least one", id)
	}
	for _, name := range slices.Sorted(maps.Keys(n.Intents)) {
		in, path := n.Intents[name], v.nodePath(id, "intents", name)
		if !varName.MatchString(name) {
			d.errKey(path, "invalid intent name %q: use letters, digits and _, not starting with a digit", name)
		}
		if in == nil || in.Next == "" {
			d.errPath(path, "intent %s of node %s has no next node", name, id)
		}
		if in == nil {
			continue
		}
		if len(in.Examples) == 0 && strings.TrimSpace(in.Description) == "" {
			d.errPath(path, "intent %s of node %s needs examples or a description to be recognised by", name, id)
		}
		for _, sn := range slices.Sorted(maps.Keys(in.Slots)) {
			v.checkSlot(sn, in.Slots[sn], append(path, "slots", sn))
		}
	}
}

func (v *validator) checkSlot(name string, s *Slot, path []string) {
	d := v.d
	if !varName.MatchString(name) {
		d.errKey(path, "invalid slot name %q: slots fill variables, use letters, digits and _, not starting with a digit", name)
	}
	if s == nil || s.Type == "" {
		d.errPath(path, "slot %s has no type; valid types are: %s", name, strings.Join(slotTypes, ", "))
		return
	}
	if !contains(slotTypes, s.Type) {
		d.errPath(append(path, "type"), "unknown slot type %q; valid types are: %s", s.Type, strings.Join(slotTypes, ", "))
	}
	switch {
	case s.Type == "enum" && len(s.Values) == 0:
		d.errPath(path, "enum slot %s needs values", name)
	case s.Type != "enum" && len(s.Values) > 0:
		d.errPath(append(path, "values"), "values are for enum slots; slot %s is a %s", name, s.Type)
	}
	v.compileTemplate(&s.Ask, append(path, "ask"))
}

// checkTools reports tools that are neither or both an exit and an
// activity, bad names and bad parameter types.
func (v *validator) checkTools(n *Node) {
	d, id := v.d, n.ID
	v.checkAITurns(n)
	for _, name := range slices.Sorted(maps.Keys(n.Tools)) {
		t, path := n.Tools[name], v.nodePath(id, "tools", name)
		if !toolName.MatchString(name) {
			d.errKey(path, "invalid tool name %q: use letters, digits, _ and -, at most 64", name)
		}
		if t == nil || (t.Next == "") == (t.Activity == "") {
			d.errPath(path, "tool %s of node %s needs exactly one of next (a flow exit) or activity", name, id)
			continue
		}
		if strings.TrimSpace(t.Description) == "" {
			d.errPath(path, "tool %s of node %s needs a description: the model calls tools by it", name, id)
		}
		for _, p := range slices.Sorted(maps.Keys(t.Params)) {
			if !varName.MatchString(p) {
				d.errKey(append(path, "params", p), "invalid parameter name %q: use letters, digits and _", p)
			}
			if !contains(paramTypes, t.Params[p]) {
				d.errPath(append(path, "params", p), "unknown parameter type %q; valid types are: %s", t.Params[p], strings.Join(paramTypes, ", "))
			}
		}
	}
}

func (v *validator) checkAITurns(n *Node) {
	if n.MaxTurns < 0 || n.MaxTurns > MaxAITurns {
		v.d.errPath(v.nodePath(n.ID, "max_turns"), "max_turns %d is out of range: use 0 to %d", n.MaxTurns, MaxAITurns)
	}
	if n.MaxTokens < 0 {
		v.d.errPath(v.nodePath(n.ID, "max_tokens"), "max_tokens must not be negative")
	}
}

// aiDefined lists the variables an AI node fills: its slots, its exit
// tools' parameters.
func aiDefined(n *Node) []string {
	var out []string
	for _, in := range n.Intents {
		if in != nil {
			out = append(out, slices.Collect(maps.Keys(in.Slots))...)
		}
	}
	for _, t := range n.Tools {
		if t != nil && t.Next != "" {
			out = append(out, slices.Collect(maps.Keys(t.Params))...)
		}
	}
	return out
}

// checkSensitive reports sensitive names that are not variable names.
func (v *validator) checkSensitive() {
	for i, name := range v.f.Sensitive {
		if !varName.MatchString(name) {
			v.d.errPath([]string{"sensitive", "[" + itoa(i) + "]"}, "invalid variable name %q in sensitive", name)
		}
	}
}

// checkNestedAI reports unknown keys inside intents (and their slots)
// and tools.
func (d *decoder) checkNestedAI(fs *fieldSpec, pairs []*ast.MappingValueNode, path []string) {
	for _, p := range pairs {
		k := keyText(p.Key)
		sub := append(append([]string(nil), path...), k)
		switch fs.Kind {
		case kindIntents:
			if !d.checkKeys(p.Value, sub, intentFields, "intent "+k) {
				continue
			}
			inner, _ := mappingValues(p.Value)
			for _, q := range inner {
				if keyText(q.Key) != "slots" {
					continue
				}
				slots, _ := mappingValues(q.Value)
				for _, s := range slots {
					d.checkKeys(s.Value, append(append([]string(nil), sub...), "slots", keyText(s.Key)), slotFields, "slot "+keyText(s.Key))
				}
			}
		case kindTools:
			d.checkKeys(p.Value, sub, toolFields, "tool "+k)
		}
	}
}

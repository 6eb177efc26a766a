package flows

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/voxflow/voxflow/activities"
)

// TestEveryTypeHasADesignerEntry fails when a row of nodeTypes lacks what
// the designer draws it with (a palette group and an icon) or starts new
// nodes with fields the type does not have.
func TestEveryTypeHasADesignerEntry(t *testing.T) {
	groups := map[string]bool{}
	for _, g := range NodeGroups() {
		groups[g.ID] = true
	}
	used := map[string]bool{}
	for _, info := range NodeTypes() {
		if !groups[info.Group] {
			t.Errorf("node type %s: group %q is not one of nodeGroups", info.Type, info.Group)
		}
		used[info.Group] = true
		if info.Icon == "" {
			t.Errorf("node type %s has no icon", info.Type)
		}
		if info.Color != info.Group && info.Color != "end" {
			t.Errorf("node type %s: colour %q is neither its group nor end", info.Type, info.Color)
		}
		for _, f := range info.Starter {
			if f.Field == "type" || !allowed[info.Type][f.Field] {
				t.Errorf("node type %s starts with field %s, which it does not have", info.Type, f.Field)
			}
		}
	}
	for g := range groups {
		if !used[g] {
			t.Errorf("palette group %s has no node type", g)
		}
	}
}

// TestStartersDecode checks that a node made from each type's starter
// fields is a node of that type with no unknown or misplaced field.
func TestStartersDecode(t *testing.T) {
	for _, info := range NodeTypes() {
		node := map[string]any{"type": info.Type}
		for _, f := range info.Starter {
			node[f.Field] = f.Value
		}
		src, err := json.Marshal(map[string]any{"name": "s", "entry": "n", "nodes": map[string]any{"n": node}})
		if err != nil {
			t.Fatal(err)
		}
		f, diags := Decode("starter.yaml", src) // JSON is YAML
		if diags.HasErrors() {
			t.Errorf("node type %s: starter does not decode:\n%s", info.Type, diags)
			continue
		}
		if f.Nodes["n"].Type != info.Type {
			t.Errorf("node type %s: decoded as %s", info.Type, f.Nodes["n"].Type)
		}
	}
}

// TestEveryTypeHasASchema fails when the JSON Schema lacks a node type.
func TestEveryTypeHasASchema(t *testing.T) {
	var schema struct {
		Defs map[string]struct {
			Properties map[string]json.RawMessage `json:"properties"`
			Required   []string                   `json:"required"`
			OneOf      []struct {
				Ref string `json:"$ref"`
			} `json:"oneOf"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(Schema(), &schema); err != nil {
		t.Fatal(err)
	}
	var enum struct {
		Enum []NodeType `json:"enum"`
	}
	if err := json.Unmarshal(schema.Defs["node"].Properties["type"], &enum); err != nil {
		t.Fatal(err)
	}
	refs := map[string]bool{}
	for _, o := range schema.Defs["node"].OneOf {
		refs[o.Ref] = true
	}
	for i, info := range NodeTypes() {
		def, ok := schema.Defs[string(info.Type)+"Node"]
		if !ok {
			t.Errorf("schema has no %sNode", info.Type)
			continue
		}
		if i >= len(enum.Enum) || enum.Enum[i] != info.Type {
			t.Errorf("schema's node type enum %v lacks %s at %d", enum.Enum, info.Type, i)
		}
		if !refs["#/$defs/"+string(info.Type)+"Node"] {
			t.Errorf("schema's node oneOf lacks %sNode", info.Type)
		}
		if len(def.Properties) != len(info.Fields) {
			t.Errorf("schema of %s has %d properties, the type %d fields", info.Type, len(def.Properties), len(info.Fields))
		}
		if !reflect.DeepEqual(def.Required, append([]string{"type"}, info.Required...)) {
			t.Errorf("schema of %s requires %v, the type %v", info.Type, def.Required, info.Required)
		}
	}
}

// TestExitFieldsCoverNodeRefs keeps exitFields in step with the field
// table: every field that names other nodes is an exit of the right kind.
func TestExitFieldsCoverNodeRefs(t *testing.T) {
	want := map[fieldKind]exitKind{kindNodeRef: exitRef, kindOptions: exitOptions, kindWhen: exitWhen, kindSplit: exitSplit, kindIntents: exitIntents, kindTools: exitTools}
	exits := map[string]exitSpec{}
	for _, x := range exitFields {
		exits[x.Field] = x
		if x.Kind == exitRef && x.Caption == "" {
			t.Errorf("exit %s has no port caption", x.Field)
		}
	}
	for _, f := range nodeFields {
		k, isExit := want[f.Kind]
		x, listed := exits[f.Name]
		switch {
		case isExit && !listed:
			t.Errorf("field %s leads to other nodes but is not in exitFields", f.Name)
		case !isExit && listed:
			t.Errorf("exitFields has %s, which does not name nodes", f.Name)
		case isExit && x.Kind != k:
			t.Errorf("exit %s has kind %s, want %s", f.Name, x.Kind, k)
		}
	}
	if len(exits) != len(ExitFields()) {
		t.Error("exitFields lists a field twice")
	}
}

// TestExitsOrder pins the order of Node.Exits: the graph, the designer's
// ports and the validator's messages follow it.
func TestExitsOrder(t *testing.T) {
	n := &Node{
		Next: "a", OnError: "b", Default: "c", Open: "d", Closed: "e", Holiday: "f",
		OnFailure: "g", OnTimeout: "h",
		Options: map[string]*MenuOption{"2": {Next: "i"}, "1": {Next: "j"}, "3": {}},
		When:    []*WhenClause{{Next: "k"}, {Next: "l"}},
		Split:   []*SplitBranch{{Percent: 30, Next: "m"}, {Percent: 70, Next: "n"}},
	}
	var got []string
	for _, e := range n.Exits() {
		got = append(got, e.Label+"="+e.Field+">"+e.Target)
	}
	want := []string{
		"next=next>a", "option 1=options.1.next>j", "option 2=options.2.next>i",
		"when 0=when[0].next>k", "when 1=when[1].next>l",
		"default=default>c", "open=open>d", "closed=closed>e", "holiday=holiday>f",
		"30%=split[0].next>m", "70%=split[1].next>n",
		"on_failure=on_failure>g", "on_timeout=on_timeout>h", "on_error=on_error>b",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("Exits =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestNodeTypeFlags pins which types talk to the caller, collect input or
// wait: the loop check and the designer rely on them.
func TestNodeTypeFlags(t *testing.T) {
	var media, input, waits []string
	for _, info := range NodeTypes() {
		if info.Media {
			media = append(media, string(info.Type))
		}
		if info.Input {
			input = append(input, string(info.Type))
		}
		if info.Waits != info.Type.Waits() {
			t.Errorf("%s: Waits() disagrees with the table", info.Type)
		}
		if info.Waits {
			waits = append(waits, string(info.Type))
		}
	}
	for _, c := range []struct {
		name      string
		got, want []string
	}{
		{"media", media, []string{"play", "menu", "gather", "transfer", "record", "voicemail", "hangup", "intent", "llm"}},
		{"input", input, []string{"menu", "gather", "record", "voicemail", "intent", "llm"}},
		{"waits", waits, []string{"menu", "gather", "wait", "transfer", "queue", "record", "voicemail", "intent", "llm"}},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s types = %v, want %v", c.name, c.got, c.want)
		}
	}
	if NodeType("nope").Waits() {
		t.Error("an unknown type waits")
	}
}

// TestSlotTypesMatchContract keeps the flow language's slot types equal
// to the activities' (flows links no Temporal, so it holds a copy).
func TestSlotTypesMatchContract(t *testing.T) {
	if !reflect.DeepEqual(slotTypes, activities.SlotTypes) {
		t.Errorf("flows slot types %v, activities %v", slotTypes, activities.SlotTypes)
	}
}

package flows

// The read-only description of the node types that the designer API serves
// (GET /api/v1/node-types), derived from the spec table in spec.go, so the
// designer keeps no copy of its own.

// NodeTypeInfo describes one node type for editors.
type NodeTypeInfo struct {
	Type NodeType `json:"type"`
	Doc  string   `json:"doc"`
	// Group is the palette section (NodeGroupInfo.ID).
	Group string `json:"group" doc:"Palette section: the id of one of the groups"`
	// Color is the colour class: the group, or end for hangup.
	Color string `json:"color" doc:"Colour class of the node: its group's, or end"`
	Icon  string `json:"icon" doc:"Symbol shown on the palette item and the graph node"`
	Media bool   `json:"media" doc:"Talks to the caller through the media worker"`
	Input bool   `json:"input" doc:"Collects input from the caller"`
	Waits bool   `json:"waits" doc:"Waits for the caller, an agent or time: a loop through it does not spin"`
	// Fields are the fields the type accepts, in the schema's order.
	Fields   []string   `json:"fields" doc:"Fields the type accepts, type and label included"`
	Required []string   `json:"required" doc:"Fields that must be set"`
	AnyOf    [][]string `json:"any_of,omitempty" doc:"Groups of fields of which at least one must be set"`
	// Exits are the type's fields that lead to other nodes (ExitFieldInfo.Field).
	Exits   []string       `json:"exits" doc:"Fields that lead to other nodes, in port order"`
	Starter []StarterField `json:"starter" doc:"Fields, in order, a node added in the designer starts with"`
}

// NodeGroupInfo is a section of the designer's palette.
type NodeGroupInfo struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// ExitFieldInfo is a node field that leads to other nodes.
type ExitFieldInfo struct {
	Field string `json:"field"`
	// Kind: ref (the field is a node ID), options (each menu option's next),
	// when (each clause's next), split (each share's next), intents (each
	// intent's next) or tools (each exit tool's next).
	Kind    string `json:"kind" enum:"ref,options,when,split,intents,tools" doc:"How the field leads to other nodes: ref (a node ID), options, when, split, intents or tools (each item's next)"`
	Caption string `json:"caption,omitempty" doc:"Short caption of a ref field's port"`
}

// NodeTypes describes every node type in the table's order. Its slices are
// fresh copies; the starter values are shared and must not be changed.
func NodeTypes() []NodeTypeInfo {
	out := make([]NodeTypeInfo, len(nodeTypes))
	for i := range nodeTypes {
		ts := &nodeTypes[i]
		info := NodeTypeInfo{
			Type: ts.Type, Doc: ts.Doc, Group: ts.Group, Color: ts.Color, Icon: ts.Icon,
			Media: ts.Media, Input: ts.Input, Waits: ts.Waits,
			Fields: []string{}, Required: append([]string{}, ts.Required...), Exits: []string{},
			Starter: append([]StarterField{}, ts.Starter...),
		}
		if info.Color == "" {
			info.Color = ts.Group
		}
		for _, g := range ts.AnyOf {
			info.AnyOf = append(info.AnyOf, append([]string(nil), g...))
		}
		for _, f := range ts.fields() {
			info.Fields = append(info.Fields, f.Name)
		}
		for _, x := range exitFields {
			if allowed[ts.Type][x.Field] {
				info.Exits = append(info.Exits, x.Field)
			}
		}
		out[i] = info
	}
	return out
}

// NodeGroups lists the palette sections in the order the designer shows them.
func NodeGroups() []NodeGroupInfo {
	out := make([]NodeGroupInfo, len(nodeGroups))
	for i, g := range nodeGroups {
		out[i] = NodeGroupInfo{ID: g.ID, Title: g.Title}
	}
	return out
}

// ExitFields lists the node fields that lead to other nodes, in the order
// Node.Exits reports them.
func ExitFields() []ExitFieldInfo {
	out := make([]ExitFieldInfo, len(exitFields))
	for i, x := range exitFields {
		out[i] = ExitFieldInfo{Field: x.Field, Kind: string(x.Kind), Caption: x.Caption}
	}
	return out
}

// Waits reports whether a node of this type waits for the caller, an agent
// or time; a cycle through such a node is not an infinite loop.
func (t NodeType) Waits() bool {
	ts := typeByName[t]
	return ts != nil && ts.Waits
}

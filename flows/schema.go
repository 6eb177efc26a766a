package flows

import (
	"bytes"
	"encoding/json"
)

// SchemaID is the $id of the flow file JSON Schema.
const SchemaID = "https://voxflow.dev/schemas/flow.schema.json"

// member is one key of an ordered JSON object.
type member struct {
	Key   string
	Value any
}

// object is a JSON object that keeps its key order, so the schema bytes
// are stable.
type object []member

func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(m.Key)
		if err != nil {
			return nil, err
		}
		v, err := marshalNoEscape(m.Value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func marshalNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// Schema returns the JSON Schema (draft 2020-12) of a flow file, for
// editors such as yaml-language-server. Nodes are a oneOf by type, each
// allowing exactly its type's fields. The bytes are stable.
func Schema() []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(schemaDoc()); err != nil {
		panic("flows: build schema: " + err.Error()) // static data: cannot fail
	}
	return b.Bytes()
}

func ref(name string) object { return object{{"$ref", "#/$defs/" + name}} }

// withDoc adds a description and default to a property schema.
func withDoc(s object, f *fieldSpec) object {
	out := append(object{}, s...)
	if f.Doc != "" {
		out = append(out, member{"description", f.Doc})
	}
	if f.Default != nil {
		out = append(out, member{"default", f.Default})
	}
	return out
}

// kindSchema is the schema of a field kind.
func kindSchema(f *fieldSpec) object {
	switch f.Kind {
	case kindNodeRef:
		return ref("nodeRef")
	case kindTemplate:
		return ref("template")
	case kindExpr:
		return ref("expression")
	case kindBoolExpr:
		return ref("condition")
	case kindDuration:
		return ref("duration")
	case kindBool:
		return object{{"type", "boolean"}}
	case kindInt:
		return object{{"type", "integer"}, {"minimum", 0}}
	case kindPercent:
		return object{{"type", "integer"}, {"minimum", 0}, {"maximum", 100}}
	case kindVarName:
		return ref("varName")
	case kindAssignments:
		return ref("assignments")
	case kindInputs:
		return ref("inputs")
	case kindOptions:
		return object{{"type", "object"}, {"propertyNames", object{{"pattern", "^[0-9*#]$"}}}, {"additionalProperties", ref("menuOption")}, {"minProperties", 1}}
	case kindWhen:
		return object{{"type", "array"}, {"items", ref("whenClause")}, {"minItems", 1}}
	case kindSplit:
		return object{{"type", "array"}, {"items", ref("splitShare")}, {"minItems", 1}}
	case kindSchedule:
		return ref("schedule")
	case kindDates:
		return object{{"type", "array"}, {"items", object{{"type", "string"}, {"pattern", `^[0-9]{4}-[0-9]{2}-[0-9]{2}$`}}}}
	case kindHeaders:
		return object{{"type", "object"}, {"additionalProperties", ref("template")}}
	case kindEnum:
		return object{{"enum", f.Enum}}
	case kindNodeType:
		return object{{"enum", typeNames()}}
	case kindStrings:
		return object{{"type", "array"}, {"items", object{{"type", "string"}}}}
	case kindMap:
		return object{{"type", "object"}}
	case kindDigit:
		return object{{"type", "string"}, {"pattern", "^[0-9*#]$"}}
	case kindIntents:
		return object{{"type", "object"}, {"propertyNames", ref("varName")}, {"additionalProperties", ref("intent")}, {"minProperties", 1}}
	case kindTools:
		return object{{"type", "object"}, {"propertyNames", object{{"pattern", toolName.String()}}}, {"additionalProperties", ref("tool")}}
	case kindConfidence:
		return object{{"type", "number"}, {"minimum", 0}, {"maximum", 1}}
	}
	return object{{"type", "string"}}
}

func objectSchema(fields []fieldSpec, required []string, override map[string]object) object {
	props := object{}
	for i := range fields {
		f := &fields[i]
		s := kindSchema(f)
		if o, ok := override[f.Name]; ok {
			s = o
		}
		props = append(props, member{f.Name, withDoc(s, f)})
	}
	out := object{{"type", "object"}}
	if len(required) > 0 {
		out = append(out, member{"required", required})
	}
	return append(out, member{"properties", props}, member{"additionalProperties", false})
}

func nodeTypeSchema(ts *typeSpec) object {
	props := object{}
	required := []string{"type"}
	for _, f := range ts.fields() {
		s := kindSchema(f)
		if f.Name == "type" {
			s = object{{"const", string(ts.Type)}}
		}
		props = append(props, member{f.Name, withDoc(s, f)})
		if isRequired(ts, f.Name) {
			required = append(required, f.Name)
		}
	}
	out := object{
		{"title", string(ts.Type)},
		{"description", ts.Doc},
		{"type", "object"},
		{"required", required},
		{"properties", props},
		{"additionalProperties", false},
	}
	if len(ts.AnyOf) > 0 {
		var all []any
		for _, group := range ts.AnyOf {
			var alts []any
			for _, f := range group {
				alts = append(alts, object{{"required", []string{f}}})
			}
			all = append(all, object{{"anyOf", alts}})
		}
		if len(all) == 1 {
			out = append(out, all[0].(object)...)
		} else {
			out = append(out, member{"allOf", all})
		}
	}
	return out
}

func schemaDoc() object {
	defs := object{}
	var oneOf []any
	for i := range nodeTypes {
		ts := &nodeTypes[i]
		name := string(ts.Type) + "Node"
		oneOf = append(oneOf, ref(name))
		defs = append(defs, member{name, nodeTypeSchema(ts)})
	}
	node := object{
		{"description", "One step of the flow; its type decides which fields it has."},
		{"type", "object"},
		{"required", []string{"type"}},
		{"properties", object{{"type", object{{"enum", typeNames()}}}}},
		{"oneOf", oneOf},
	}
	expression := object{{"description", "An expression (expr-lang), like vars.attempts < 3."}, {"type", []string{"string", "number", "boolean"}}}
	common := object{
		{"node", node},
		{"settings", objectSchema(settingsFields, nil, nil)},
		{"nodeRef", object{{"description", "ID of a node of this flow."}, {"type", "string"}, {"minLength", 1}}},
		{"template", object{{"description", "Text with {{ expression }} segments."}, {"type", "string"}}},
		{"expression", expression},
		{"condition", object{{"description", "An expression that yields true or false."}, {"type", []string{"string", "boolean"}}}},
		{"duration", object{{"description", "A duration like 500ms, 5s, 1m30s or 2h."}, {"type", "string"}, {"pattern", `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`}}},
		{"varName", object{{"description", "A variable name."}, {"type", "string"}, {"pattern", `^[A-Za-z_][A-Za-z0-9_]*$`}}},
		{"assignments", object{{"description", "Ordered assignments variable: expression."}, {"type", "object"}, {"propertyNames", ref("varName")}, {"additionalProperties", ref("expression")}}},
		{"inputs", object{{"description", "Inputs by name: expression."}, {"type", "object"}, {"additionalProperties", ref("expression")}}},
		{"menuOption", object{{"description", "A node ID, or a mapping with next and spoken phrases."}, {"oneOf", []any{
			ref("nodeRef"),
			objectSchema(optionFields, []string{"next"}, nil),
		}}}},
		{"whenClause", objectSchema(whenFields, []string{"if", "next"}, nil)},
		{"splitShare", objectSchema(splitFields, []string{"percent", "next"}, nil)},
		{"intent", objectSchema(intentFields, []string{"next"}, map[string]object{
			"slots": object{{"type", "object"}, {"propertyNames", ref("varName")}, {"additionalProperties", ref("slot")}}})},
		{"slot", objectSchema(slotFields, []string{"type"}, nil)},
		{"tool", objectSchema(toolFields, []string{"description"}, map[string]object{
			"params": object{{"type", "object"}, {"propertyNames", ref("varName")}, {"additionalProperties", object{{"enum", paramTypes}}}}})},
		{"schedule", object{{"description", "Opening hours per day."}, {"type", "object"}, {"propertyNames", object{{"pattern", schedulePattern}}},
			{"additionalProperties", object{{"type", "array"}, {"items", object{{"type", "string"}, {"pattern", `^[0-2][0-9]:[0-5][0-9]-[0-2][0-9]:[0-5][0-9]$`}}}}}}},
	}
	defs = append(common, defs...)
	top := objectSchema(flowFields, flowRequired, map[string]object{
		"settings":  ref("settings"),
		"variables": object{{"type", "object"}, {"propertyNames", ref("varName")}},
		"nodes":     object{{"type", "object"}, {"additionalProperties", ref("node")}, {"minProperties", 1}},
	})
	doc := object{
		{"$schema", "https://json-schema.org/draft/2020-12/schema"},
		{"$id", SchemaID},
		{"title", "voxflow contact flow"},
		{"description", "A voxflow contact flow file (see docs/flow-language.md)."},
	}
	doc = append(doc, top...)
	return append(doc, member{"$defs", defs})
}

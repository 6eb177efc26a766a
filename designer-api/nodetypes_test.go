package designerapi

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"

	"github.com/voxflow/voxflow/flows"
)

// TestNodeTypes checks GET /node-types: the flow language's node types as
// flows describes them, in the shape the designer reads.
func TestNodeTypes(t *testing.T) {
	e := newEnv(t)
	w := e.do(RoleViewer, http.MethodGet, Prefix+"/node-types")
	e.expect(w, http.StatusOK)
	want, err := json.Marshal(NodeTypes{Groups: flows.NodeGroups(), Exits: flows.ExitFields(), Types: flows.NodeTypes()})
	if err != nil {
		t.Fatal(err)
	}
	var got, exp any
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &exp); err != nil {
		t.Fatal(err)
	}
	// huma adds $schema to bodies; the rest is the description.
	delete(got.(map[string]any), "$schema")
	if !reflect.DeepEqual(got, exp) {
		t.Errorf("GET /node-types =\n%s\nwant\n%s", w.Body.String(), want)
	}

	// The fields the designer's JavaScript reads.
	var body struct {
		Groups []struct{ ID, Title string } `json:"groups"`
		Exits  []struct {
			Field, Kind, Caption string
		} `json:"exits"`
		Types []struct {
			Type, Group, Color, Icon string
			Exits                    []string
			Starter                  []struct {
				Field string
				Value any
			}
		} `json:"types"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Groups) == 0 || body.Groups[0].ID != "prompt" || body.Groups[0].Title != "Prompts" {
		t.Errorf("groups = %+v", body.Groups)
	}
	if len(body.Exits) == 0 || body.Exits[0].Field != "next" || body.Exits[0].Kind != "ref" || body.Exits[0].Caption != "next" {
		t.Errorf("exits = %+v", body.Exits)
	}
	byType := map[string]int{}
	for i, ty := range body.Types {
		byType[ty.Type] = i
	}
	menu := body.Types[byType["menu"]]
	if menu.Group != "input" || menu.Icon == "" || !reflect.DeepEqual(menu.Exits, []string{"options", "on_failure", "on_error"}) {
		t.Errorf("menu = %+v", menu)
	}
	if hangup := body.Types[byType["hangup"]]; hangup.Color != "end" || hangup.Group != "routing" {
		t.Errorf("hangup = %+v", hangup)
	}
	if g := body.Types[byType["gather"]]; len(g.Starter) != 3 || g.Starter[0].Field != "prompt" || g.Starter[2].Value != "#" {
		t.Errorf("gather starter = %+v", g.Starter)
	}
}

package routing

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestParseRequirements(t *testing.T) {
	tests := []struct {
		items []string
		want  []Requirement
	}{
		{nil, nil},
		{[]string{"billing:5"}, []Requirement{{"billing", 5}}},
		{[]string{"english"}, []Requirement{{"english", 1}}},
		{[]string{"billing:5", "English"}, []Requirement{{"billing", 5}, {"english", 1}}},
		{[]string{"billing:5,english"}, []Requirement{{"billing", 5}, {"english", 1}}},
		{[]string{" billing : 10 , fr-CA.v2_x "}, []Requirement{{"billing", 10}, {"fr-ca.v2_x", 1}}},
		{[]string{"a:1", "b:07,c"}, []Requirement{{"a", 1}, {"b", 7}, {"c", 1}}},
	}
	for _, tt := range tests {
		got, err := ParseRequirements(tt.items)
		if err != nil {
			t.Errorf("ParseRequirements(%q): %v", tt.items, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseRequirements(%q) = %v, want %v", tt.items, got, tt.want)
		}
	}
}

func TestParseSkills(t *testing.T) {
	got, err := ParseSkills([]string{"billing:5,english", "Sales:10"})
	if err != nil {
		t.Fatal(err)
	}
	want := Skills{"billing": 5, "english": 1, "sales": 10}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseSkills = %v, want %v", got, want)
	}
	if s := got.Strings(); strings.Join(s, ",") != "billing:5,english:1,sales:10" {
		t.Errorf("Strings() = %q", s)
	}
	if _, err := ParseSkills([]string{"billing", "BILLING:2"}); err == nil {
		t.Error("ParseSkills accepted a skill listed twice")
	}
	if s, err := ParseSkills(nil); s != nil || err != nil {
		t.Errorf("ParseSkills(nil) = %v, %v; want nil, nil", s, err)
	}
}

// parseErrorInputs are outside input ParseRequirements must reject; their
// messages are in testdata/parse_errors.golden (go test -update rewrites it).
var parseErrorInputs = [][]string{
	{"billing:x"},
	{"billing:0"},
	{"billing:11"},
	{"billing:-1"},
	{"billing:+5"},
	{"billing:5.5"},
	{"billing:"},
	{"billing:5:3"},
	{":5"},
	{""},
	{"billing,"},
	{"billing,,english"},
	{"bil ling"},
	{"billing;english"},
	{"café"},
	{"billing", "Billing:3"},
	{"billing:2,billing:3"},
	{strings.Repeat("x", 65)},
}

func TestParseErrorsGolden(t *testing.T) {
	var b strings.Builder
	for _, in := range parseErrorInputs {
		_, err := ParseRequirements(in)
		if err == nil {
			t.Errorf("ParseRequirements(%q) accepted", in)
			continue
		}
		fmt.Fprintf(&b, "%q\n\t%v\n", in, err)
	}
	for _, in := range []string{"", "busy", "on call", "Reserved "} {
		st, err := ParseState(in)
		if err == nil {
			fmt.Fprintf(&b, "state %q\n\tok: %s\n", in, st)
			continue
		}
		fmt.Fprintf(&b, "state %q\n\t%v\n", in, err)
	}
	golden(t, "parse_errors.golden", b.String())
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update rewrites it):\n--- got\n%s--- want\n%s", path, got, want)
	}
}

func TestMeets(t *testing.T) {
	s := Skills{"billing": 5, "english": 1}
	tests := []struct {
		req  []Requirement
		want bool
	}{
		{nil, true},
		{[]Requirement{{"billing", 5}}, true},
		{[]Requirement{{"billing", 6}}, false},
		{[]Requirement{{"billing", 1}, {"english", 1}}, true},
		{[]Requirement{{"billing", 1}, {"french", 1}}, false},
		{[]Requirement{{"french", 0}}, false}, // a level below 1 still needs the skill
	}
	for _, tt := range tests {
		if got := s.Meets(tt.req); got != tt.want {
			t.Errorf("Meets(%v) = %v, want %v", tt.req, got, tt.want)
		}
	}
	if !Skills(nil).Meets(nil) || Skills(nil).Meets([]Requirement{{"x", 1}}) {
		t.Error("nil Skills: meets no requirement but the empty list")
	}
}

func FuzzParseRequirements(f *testing.F) {
	for _, in := range parseErrorInputs {
		f.Add(strings.Join(in, ","))
	}
	f.Add("billing:5,english")
	f.Add(" a : 10 , b.c-d_e ")
	f.Fuzz(func(t *testing.T, s string) {
		req, err := ParseRequirements([]string{s})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "skill ") {
				t.Fatalf("error %q does not name the item", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, r := range req {
			if r.Level < MinLevel || r.Level > MaxLevel || r.Skill == "" || r.Skill != strings.ToLower(r.Skill) || seen[r.Skill] {
				t.Fatalf("ParseRequirements(%q) = %v: bad entry %v", s, req, r)
			}
			seen[r.Skill] = true
		}
		// What was accepted reads back the same, one item or many.
		items := make([]string, len(req))
		for i, r := range req {
			items[i] = r.String()
		}
		again, err := ParseRequirements(items)
		if err != nil || !reflect.DeepEqual(again, req) {
			t.Fatalf("round trip of %q: %v, %v; want %v", s, again, err, req)
		}
		skills, err := ParseSkills([]string{s})
		if err != nil || !skills.Meets(req) || len(skills) != len(req) {
			t.Fatalf("ParseSkills(%q) = %v, %v: does not meet %v", s, skills, err, req)
		}
	})
}

package routing

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// MinLevel and MaxLevel bound a skill level; a name without a level is MinLevel.
const (
	MinLevel = 1
	MaxLevel = 10
	// maxNameLen keeps names from outside input short enough for logs and labels.
	maxNameLen = 64
)

// Requirement is a skill a call needs, at Level or above (1..10; "english"
// alone means level 1).
type Requirement struct {
	Skill string `json:"skill"`
	Level int    `json:"level"`
}

// String is the requirement in the syntax ParseRequirements reads: "billing:5".
func (r Requirement) String() string { return r.Skill + ":" + strconv.Itoa(r.Level) }

// Skills are an agent's skills, name (lower-case) to level 1..10.
type Skills map[string]int

// ParseRequirements reads items like "billing:5" and "english" (level 1);
// an item may also hold a comma-separated list ("billing:5,english").
// Names are letters a-z, digits, '_', '-' and '.', case-insensitive (kept
// lower-case). No items gives nil.
func ParseRequirements(items []string) ([]Requirement, error) {
	var out []Requirement
	err := parseEntries(items, func(r Requirement) { out = append(out, r) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ParseSkills reads an agent's skills in the syntax of ParseRequirements.
// No items gives nil.
func ParseSkills(items []string) (Skills, error) {
	var out Skills
	err := parseEntries(items, func(r Requirement) {
		if out == nil {
			out = Skills{}
		}
		out[r.Skill] = r.Level
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Meets reports whether the skills satisfy every requirement. A requirement
// below level 1 still needs the skill.
func (s Skills) Meets(req []Requirement) bool {
	for _, r := range req {
		level, ok := s[r.Skill]
		if !ok || level < r.Level {
			return false
		}
	}
	return true
}

// Strings lists the skills as "name:level", sorted by name.
func (s Skills) Strings() []string {
	out := make([]string, 0, len(s))
	for name, level := range s {
		out = append(out, Requirement{Skill: name, Level: level}.String())
	}
	sort.Strings(out)
	return out
}

// parseEntries splits every item on commas, parses each entry and hands it
// to add, rejecting a name seen twice.
func parseEntries(items []string, add func(Requirement)) error {
	seen := map[string]string{}
	for _, item := range items {
		for _, entry := range strings.Split(item, ",") {
			if strings.TrimSpace(entry) == "" && strings.TrimSpace(item) != "" {
				return fmt.Errorf("skill list %q: an entry is empty; write name or name:level, separated by commas", item)
			}
			r, err := parseEntry(entry)
			if err != nil {
				return err
			}
			if first, dup := seen[r.Skill]; dup {
				return fmt.Errorf("skill %q: %q is already listed (as %q); list each skill once", entry, r.Skill, first)
			}
			seen[r.Skill] = entry
			add(r)
		}
	}
	return nil
}

// parseEntry reads one "name" or "name:level"; spaces around the name and
// the level are ignored, spaces inside a name are not.
func parseEntry(entry string) (Requirement, error) {
	name, level, hasLevel := strings.Cut(strings.TrimSpace(entry), ":")
	name = strings.TrimSpace(name)
	if name == "" {
		return Requirement{}, fmt.Errorf("skill %q: name is empty; write name or name:level", entry)
	}
	if err := checkName(name); err != nil {
		return Requirement{}, fmt.Errorf("skill %q: %w", entry, err)
	}
	r := Requirement{Skill: strings.ToLower(name), Level: MinLevel}
	if !hasLevel {
		return r, nil
	}
	level = strings.TrimSpace(level)
	if strings.Contains(level, ":") {
		return Requirement{}, fmt.Errorf("skill %q: more than one ':'; write name or name:level", entry)
	}
	n, ok := parseLevel(level)
	if !ok {
		return Requirement{}, fmt.Errorf("skill %q: level must be a whole number from %d to %d", entry, MinLevel, MaxLevel)
	}
	r.Level = n
	return r, nil
}

func checkName(name string) error {
	if len(name) > maxNameLen {
		return fmt.Errorf("name is longer than %d characters", maxNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
		if !ok {
			return fmt.Errorf("name may use only letters a-z (any case), digits, '_', '-' and '.'")
		}
	}
	return nil
}

// parseLevel accepts only digits (no sign, no spaces) in 1..10.
func parseLevel(s string) (int, bool) {
	if s == "" || len(s) > 2 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, n >= MinLevel && n <= MaxLevel
}

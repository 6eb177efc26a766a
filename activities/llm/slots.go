package llm

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/nlu"
)

// slotParser reads a slot value of a type from text; nlu.ParseSlot.
type slotParser func(typ, text string, values []string, now time.Time, loc *time.Location) (any, bool)

var (
	digitsRe = regexp.MustCompile(`^[0-9]+$`)
	moneyRe  = regexp.MustCompile(`^[0-9]+(\.[0-9]{1,2})?$`)
)

// normaliseSlot turns a model's slot value into the value a flow sees, as
// the offline matcher writes it: numbers as int when whole, else float64;
// digits, dates (YYYY-MM-DD), times (HH:MM) and amounts (12.50) as
// strings; enums in their declared spelling; text as given. Values already in that form are
// kept; others go through the slot parser, and are dropped when it cannot
// read them.
func (c *Client) normaliseSlot(def activities.SlotDef, v any, now time.Time, loc *time.Location) (any, bool) {
	var text string
	switch v := v.(type) {
	case nil:
		return nil, false
	case float64:
		if def.Type == activities.SlotNumber {
			return numberValue(v), true
		}
		text = strconv.FormatFloat(v, 'f', -1, 64)
	case string:
		text = strings.TrimSpace(v)
	default:
		return nil, false
	}
	if text == "" {
		return nil, false
	}
	if canon, ok := canonicalSlot(def, text); ok {
		return canon, true
	}
	if def.Type == activities.SlotText || slotFormats[def.Type] == "" {
		return text, true
	}
	parse := c.parseSlot
	if parse == nil {
		parse = nlu.ParseSlot
	}
	return parse(def.Type, text, def.Values, now, loc)
}

// canonicalSlot reports text already written the way def's type is.
func canonicalSlot(def activities.SlotDef, text string) (any, bool) {
	switch def.Type {
	case activities.SlotNumber:
		f, err := strconv.ParseFloat(text, 64)
		return numberValue(f), err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
	case activities.SlotDigits:
		return text, digitsRe.MatchString(text)
	case activities.SlotDate:
		_, err := time.Parse(time.DateOnly, text)
		return text, err == nil
	case activities.SlotTime:
		_, err := time.Parse("15:04", text)
		return text, err == nil && len(text) == 5
	case activities.SlotMoney:
		if !moneyRe.MatchString(text) {
			return nil, false
		}
		f, _ := strconv.ParseFloat(text, 64)
		return strconv.FormatFloat(f, 'f', 2, 64), true
	case activities.SlotEnum:
		for _, val := range def.Values {
			if strings.EqualFold(val, text) {
				return val, true
			}
		}
	}
	return nil, false
}

// numberValue is v as the offline matcher gives a number: an int when
// whole, else a float64.
func numberValue(v float64) any {
	if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
		return int(v)
	}
	return v
}

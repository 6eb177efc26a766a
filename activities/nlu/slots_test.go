package nlu

import (
	"reflect"
	"testing"
	"time"
	_ "time/tzdata" // the test needs Asia/Tokyo wherever it runs

	"github.com/voxflow/voxflow/activities"
)

// parseCase is one ParseSlot case; want nil means no value.
type parseCase struct {
	text string
	want any
}

func runParseCases(t *testing.T, typ string, values []string, cases []parseCase) {
	t.Helper()
	for _, c := range cases {
		got, ok := ParseSlot(typ, c.text, values, testNow, time.UTC)
		if c.want == nil {
			if ok {
				t.Errorf("ParseSlot(%s, %q) = %#v, want no value", typ, c.text, got)
			}
			continue
		}
		if !ok || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseSlot(%s, %q) = %#v, %v; want %#v", typ, c.text, got, ok, c.want)
		}
	}
}

func TestParseNumber(t *testing.T) {
	runParseCases(t, activities.SlotNumber, nil, []parseCase{
		{"twelve", 12},
		{"3.5", 3.5},
		{"three point five", 3.5},
		{"two hundred and five", 205},
		{"a hundred", 100},
		{"one thousand two hundred", 1200},
		{"1,200", 1200},
		{"twenty five thousand", 25000},
		{"5 thousand", 5000},
		{"nineteen", 19},
		{"seventy one", 71},
		{"zero", 0},
		{"about 40 of them", 40},
		{"four four seven one", 4471},
		{"I have one", 1},
		{"none", nil},
		{"", nil},
		{"a lot", nil},
	})
}

func TestParseDigits(t *testing.T) {
	runParseCases(t, activities.SlotDigits, nil, []parseCase{
		{"4471", "4471"},
		{"four four seven one", "4471"},
		{"four four seventy one", "4471"},
		{"double four seven one", "4471"},
		{"triple seven two", "7772"},
		{"four oh seven one", "4071"},
		{"oh four four seven", "0447"},
		{"44 71", "4471"},
		{"55-21-903", "5521903"},
		{"555-1234", "5551234"},
		{"it's 007", "007"},
		{"nine zero two one zero", "90210"},
		{"four hundred twelve", "412"},
		{"nineteen eighty four", "1984"},
		{"my account is 8 8 3 2 thanks", "8832"},
		{"no idea", nil},
		{"oh well", nil},
	})
}

func TestParseMoney(t *testing.T) {
	runParseCases(t, activities.SlotMoney, nil, []parseCase{
		{"$12.50", "12.50"},
		{"$ 12", "12.00"},
		{"twelve dollars fifty", "12.50"},
		{"twelve dollars and fifty cents", "12.50"},
		{"12 euros", "12.00"},
		{"€30", "30.00"},
		{"£7.99", "7.99"},
		{"a hundred bucks", "100.00"},
		{"fifty cents", "0.50"},
		{"two hundred and five dollars", "205.00"},
		{"forty five", "45.00"},
		{"twelve fifty", "12.50"},
		{"1,250.75", "1250.75"},
		{"USD 12.5", "12.50"},
		{"12.50", "12.50"},
		{"nothing", nil},
	})
}

func TestParseDate(t *testing.T) {
	// testNow is Wednesday 2026-05-06.
	runParseCases(t, activities.SlotDate, nil, []parseCase{
		{"today", "2026-05-06"},
		{"tomorrow", "2026-05-07"},
		{"yesterday", "2026-05-05"},
		{"the day after tomorrow", "2026-05-08"},
		{"friday", "2026-05-08"},
		{"this friday", "2026-05-08"},
		{"on wednesday", "2026-05-06"},
		{"next friday", "2026-05-15"},
		{"next monday", "2026-05-11"},
		{"last friday", "2026-05-01"},
		{"May 3rd", "2026-05-03"},
		{"may the third", "2026-05-03"},
		{"3 May", "2026-05-03"},
		{"the 3rd of May", "2026-05-03"},
		{"June 1st", "2026-06-01"},
		{"december twenty fifth", "2025-12-25"},
		{"12/25", "2025-12-25"},
		{"8/15", "2026-08-15"},
		{"12/25/2026", "2026-12-25"},
		{"5/3/27", "2027-05-03"},
		{"2026-07-04", "2026-07-04"},
		{"2026-07-04T10:00:00Z", "2026-07-04"},
		{"May 3rd 2027", "2027-05-03"},
		{"march 3 twenty twenty seven", "2027-03-03"},
		{"the 5th", "2026-06-05"},
		{"on the fifteenth", "2026-05-15"},
		{"the twenty first", "2026-05-21"},
		{"in 3 days", "2026-05-09"},
		{"in two weeks", "2026-05-20"},
		{"the 5th at noon", "2026-06-05"},
		{"the third time I called", nil},
		{"February 30th", nil},
		{"13/45", nil},
		{"sometime soon", nil},
		{"I may call", nil},
	})
}

func TestParseDateTimeZone(t *testing.T) {
	// 23:30 UTC on Wednesday is already Thursday in Tokyo.
	now := time.Date(2026, 5, 6, 23, 30, 0, 0, time.UTC)
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		loc  *time.Location
		want string
	}{{time.UTC, "2026-05-07"}, {tokyo, "2026-05-08"}} {
		got, ok := ParseSlot(activities.SlotDate, "tomorrow", nil, now, c.loc)
		if !ok || got != c.want {
			t.Errorf("tomorrow in %s = %v, want %s", c.loc, got, c.want)
		}
	}
}

func TestParseTime(t *testing.T) {
	runParseCases(t, activities.SlotTime, nil, []parseCase{
		{"3pm", "15:00"},
		{"3 pm", "15:00"},
		{"3 p.m.", "15:00"},
		{"10am", "10:00"},
		{"12 am", "00:00"},
		{"12 pm", "12:00"},
		{"half past two", "14:30"},
		{"half past two pm", "14:30"},
		{"half past ten", "10:30"},
		{"14:30", "14:30"},
		{"09:15", "09:15"},
		{"2:45", "14:45"},
		{"noon", "12:00"},
		{"midnight", "00:00"},
		{"quarter to five pm", "16:45"},
		{"quarter past eight in the morning", "08:15"},
		{"a quarter to one", "12:45"},
		{"ten to six", "17:50"},
		{"twenty past four", "16:20"},
		{"five thirty", "17:30"},
		{"seven o'clock", "07:00"},
		{"at 3", "15:00"},
		{"eight in the evening", "20:00"},
		{"tonight at 8", "20:00"},
		{"three forty five pm", "15:45"},
		{"nine oh five am", "09:05"},
		{"1430 hours", "14:30"},
		{"9:00 AM", "09:00"},
		{"2:30 PM", "14:30"},
		{"3", "15:00"},
		{"25:00", nil},
		{"whenever", nil},
	})
}

func TestParseEnum(t *testing.T) {
	values := []string{"internet", "tv", "phone", "mobile phone", "Gold Plan"}
	runParseCases(t, activities.SlotEnum, values, []parseCase{
		{"internet", "internet"},
		{"the Internet please", "internet"},
		{"my intenet", "internet"},
		{"tv", "tv"},
		{"the phone", "phone"},
		{"my mobile phone", "mobile phone"},
		{"the gold plan", "Gold Plan"},
		{"plans", nil},
		{"television", nil},
		{"gas", nil},
	})
	runParseCases(t, activities.SlotEnum, []string{"1", "2", "3"}, []parseCase{
		{"two", "2"},
		{"option 3", "3"},
		{"four", nil},
	})
}

func TestParseText(t *testing.T) {
	runParseCases(t, activities.SlotText, nil, []parseCase{
		{"  it keeps rebooting ", "it keeps rebooting"},
		{"   ", nil},
	})
	if _, ok := ParseSlot("colour", "red", nil, testNow, time.UTC); ok {
		t.Error("ParseSlot of an unknown type found a value")
	}
}

func TestExtractSlots(t *testing.T) {
	slots := func(defs ...activities.SlotDef) []activities.SlotDef { return defs }
	digits := func(n string) activities.SlotDef { return activities.SlotDef{Name: n, Type: activities.SlotDigits} }
	typed := func(n, typ string) activities.SlotDef { return activities.SlotDef{Name: n, Type: typ} }
	for _, c := range []struct {
		name string
		text string
		defs []activities.SlotDef
		want map[string]any
	}{
		{"digits", "I want to pay my bill, it's account 4471", slots(digits("account")), map[string]any{"account": "4471"}},
		{"short run needs its name", "I have 2 accounts", slots(digits("account")), nil},
		{"short run after its name", "account number 12", slots(digits("account")), map[string]any{"account": "12"}},
		{"hint picks the run", "my zip is 90210 and my account is 4471", slots(digits("account"), digits("zip")),
			map[string]any{"account": "4471", "zip": "90210"}},
		{"hint picks the run, reversed", "account 4471, zip code 9 0 2 1 0", slots(digits("zip"), digits("account")),
			map[string]any{"account": "4471", "zip": "90210"}},
		{"money needs a currency", "pay 45 on account 4471", slots(typed("amount", activities.SlotMoney), digits("account")),
			map[string]any{"account": "4471"}},
		{"money before digits", "pay $120 on account 4471", slots(digits("account"), typed("amount", activities.SlotMoney)),
			map[string]any{"account": "4471", "amount": "120.00"}},
		{"money is not a number", "twenty dollars for 3 tickets", slots(typed("n", activities.SlotNumber), typed("amount", activities.SlotMoney)),
			map[string]any{"n": 3, "amount": "20.00"}},
		{"date and time", "can you come tomorrow at 3pm", slots(typed("day", activities.SlotDate), typed("at", activities.SlotTime)),
			map[string]any{"day": "2026-05-07", "at": "15:00"}},
		{"a date is not digits", "on May 3rd 2026 my account 55123", slots(digits("account"), typed("d", activities.SlotDate)),
			map[string]any{"account": "55123", "d": "2026-05-03"}},
		{"bare number is no time", "I have 3 kids", slots(typed("at", activities.SlotTime)), nil},
		{"good morning is no morning", "good morning, can you come at 3", slots(typed("at", activities.SlotTime)), map[string]any{"at": "15:00"}},
		{"this morning", "this morning at 5", slots(typed("at", activities.SlotTime)), map[string]any{"at": "05:00"}},
		{"one text slot takes the text", "hi", slots(typed("a", activities.SlotText), typed("b", activities.SlotText)), map[string]any{"a": "hi"}},
		{"bare one is no number", "the blue one", slots(typed("n", activities.SlotNumber)), nil},
		{"enum", "cancel my cable tv", slots(activities.SlotDef{Name: "service", Type: activities.SlotEnum, Values: []string{"internet", "tv"}}),
			map[string]any{"service": "tv"}},
		{"text takes the whole", " it keeps rebooting ", slots(typed("details", activities.SlotText)), map[string]any{"details": "it keeps rebooting"}},
		{"nothing to find", "hello", slots(digits("account"), typed("amount", activities.SlotMoney), typed("d", activities.SlotDate)), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := ExtractSlots(c.text, c.defs, testNow, time.UTC)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("ExtractSlots(%q) = %#v, want %#v", c.text, got, c.want)
			}
		})
	}
}

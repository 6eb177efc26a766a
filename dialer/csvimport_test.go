package dialer

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/voxflow/voxflow/activities/records"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// readAll imports a CSV text, keeping the contacts.
func readAll(t testing.TB, csv string, opt ImportOptions) ([]records.Contact, ImportReport, error) {
	t.Helper()
	var got []records.Contact
	rep, err := ReadContacts(strings.NewReader(csv), opt, func(c records.Contact) error {
		got = append(got, c)
		return nil
	})
	return got, rep, err
}

func TestReadContacts(t *testing.T) {
	csv := "Phone, Name ,TZ,country,appointment\n" +
		"415-555-0100,Ada, ,,Tue 10:00\n" +
		"\"020 7946 0958\",\"Lovelace, Ada\",Europe/London,GB,\"Wed\n11:00\"\n" +
		"+33 6 12 34 56 78,Marie,,,Thu 09:00\n"
	got, rep, err := readAll(t, csv, ImportOptions{Campaign: "spring", Region: "US", Required: []string{"APPOINTMENT"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []records.Contact{
		{Campaign: "spring", Row: 2, Number: "+14155550100", State: records.ContactPending,
			Vars: map[string]string{"Name": "Ada", "country": "", "appointment": "Tue 10:00"}},
		{Campaign: "spring", Row: 3, Number: "+442079460958", Timezone: "Europe/London", State: records.ContactPending,
			Vars: map[string]string{"Name": "Lovelace, Ada", "country": "GB", "appointment": "Wed\n11:00"}},
		{Campaign: "spring", Row: 5, Number: "+33612345678", State: records.ContactPending,
			Vars: map[string]string{"Name": "Marie", "country": "", "appointment": "Thu 09:00"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("contacts:\n%+v\nwant\n%+v", got, want)
	}
	if rep.Rows != 3 || rep.Accepted != 3 || rep.Rejected != 0 || len(rep.Errors) != 0 {
		t.Errorf("report %+v", rep)
	}
}

func TestReadContactsFormats(t *testing.T) {
	for _, c := range []struct{ name, csv string }{
		{"BOM", "\uFEFFphone,name\n+14155550100,Ada\r\n"},
		{"semicolons", "phone;name\n+14155550100;Ada\n"},
		{"semicolons, commas quoted in the header", "\"phone, main\";name;mobile\n1;Ada;+14155550100\n"},
		{"tabs", "mobile\tname\n+14155550100\tAda\n"},
		{"no final newline", "msisdn,name\n+14155550100,Ada"},
		{"blank lines", "phone,name\n\n+14155550100,Ada\n\n"},
		{"quoted header", "\"Phone_Number\",\"name\"\n+14155550100,Ada\n"},
		{"unnamed column ignored", "phone,name,\n+14155550100,Ada,\n"},
	} {
		got, rep, err := readAll(t, c.csv, ImportOptions{})
		if err != nil || rep.Accepted != 1 || len(got) != 1 || got[0].Number != "+14155550100" || got[0].Vars["name"] != "Ada" {
			t.Errorf("%s: %+v, %+v, %v", c.name, got, rep, err)
		}
	}
	got, _, err := readAll(t, "cell,phone\n+442079460958,+14155550100\n", ImportOptions{NumberColumn: "Cell"})
	if err != nil || len(got) != 1 || got[0].Number != "+442079460958" || got[0].Vars["phone"] != "+14155550100" {
		t.Errorf("NumberColumn: %+v, %v", got, err)
	}
}

func TestReadContactsHeaderErrors(t *testing.T) {
	for _, c := range []struct {
		csv  string
		opt  ImportOptions
		want string
	}{
		{"", ImportOptions{}, "empty file, no header line"},
		{"name,phon,tz\nAda,+14155550100,\n", ImportOptions{},
			`no phone number column (phone, number, phone_number, msisdn, mobile) among "name", "phon", "tz"; is "phon" meant as "phone"?`},
		{"name,email\n", ImportOptions{}, `no phone number column (phone, number, phone_number, msisdn, mobile) among "name", "email"`},
		{"phone,name\n", ImportOptions{NumberColumn: "cell"}, `no phone number column (cell) among "phone", "name"`},
		{"phone,name,appointment_at\n", ImportOptions{Required: []string{"appointment"}},
			`required column "appointment" missing among "phone", "name", "appointment_at"`},
		{"phone,name,apointment\n", ImportOptions{Required: []string{"appointment"}}, `is "apointment" meant as "appointment"?`},
		{"phone,Name,name\n", ImportOptions{}, `column "name" appears twice (columns 2 and 3)`},
		{"\"phone\nname\n", ImportOptions{}, `extraneous or missing " in quoted-field`},
	} {
		_, _, err := readAll(t, c.csv, c.opt)
		if !errors.Is(err, ErrHeader) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("header %q: %v\nwant ErrHeader saying %s", c.csv, err, c.want)
		}
	}
	if _, _, err := readAll(t, "phone\n", ImportOptions{Region: "ZZ"}); !errors.Is(err, ErrUnknownRegion) {
		t.Errorf("bad region: %v", err)
	}
}

// The report of a bad list, every kind of row problem in it.
func TestReadContactsErrorsGolden(t *testing.T) {
	csv, err := os.ReadFile(filepath.Join("testdata", "import_errors.csv"))
	if err != nil {
		t.Fatal(err)
	}
	got, rep, err := readAll(t, string(csv), ImportOptions{Campaign: "c", Region: "US", Required: []string{"name"}})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "rows %d, accepted %d, rejected %d, duplicates %d, truncated %v\n",
		rep.Rows, rep.Accepted, rep.Rejected, rep.Duplicates, rep.Truncated)
	for _, e := range rep.Errors {
		fmt.Fprintln(&b, e.Error())
	}
	for _, c := range got {
		fmt.Fprintf(&b, "accepted row %d: %s\n", c.Row, c.Number)
	}
	golden := filepath.Join("testdata", "import_errors.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("report:\n%s\nwant (testdata/import_errors.golden; -update rewrites it):\n%s", b.String(), want)
	}
	if rep.Accepted+rep.Rejected != rep.Rows || rep.Accepted != len(got) {
		t.Errorf("counts do not add up: %+v, %d emitted", rep, len(got))
	}
}

func TestReadContactsMaxErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString("phone\n")
	for range 10 {
		b.WriteString("12\n")
	}
	_, rep, err := readAll(t, b.String(), ImportOptions{Region: "US", MaxErrors: 3})
	if err != nil || rep.Rejected != 10 || len(rep.Errors) != 3 || !rep.Truncated {
		t.Errorf("MaxErrors 3: %+v, %v", rep, err)
	}
	_, rep, _ = readAll(t, b.String(), ImportOptions{Region: "US", MaxErrors: -1})
	if rep.Rejected != 10 || len(rep.Errors) != 0 || !rep.Truncated {
		t.Errorf("MaxErrors -1: %+v", rep)
	}
	_, rep, _ = readAll(t, b.String(), ImportOptions{Region: "US"})
	if len(rep.Errors) != 10 || rep.Truncated {
		t.Errorf("default MaxErrors: %+v", rep)
	}
}

func TestReadContactsEmitError(t *testing.T) {
	full := errors.New("store full")
	n := 0
	rep, err := ReadContacts(strings.NewReader("phone\n+14155550100\n+14155550101\n+14155550102\n"), ImportOptions{},
		func(records.Contact) error {
			if n++; n == 2 {
				return full
			}
			return nil
		})
	if !errors.Is(err, full) || !strings.Contains(err.Error(), "row 3") || rep.Accepted != 1 || rep.Rows != 2 {
		t.Errorf("emit error: %+v, %v", rep, err)
	}
}

type failingReader struct{ after io.Reader }

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.after.Read(p)
	if err == io.EOF {
		return n, errors.New("connection reset")
	}
	return n, err
}

func TestReadContactsReadError(t *testing.T) {
	rep, err := ReadContacts(&failingReader{strings.NewReader("phone\n+14155550100\n")}, ImportOptions{},
		func(records.Contact) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "connection reset") || rep.Accepted != 1 {
		t.Errorf("read error: %+v, %v", rep, err)
	}
}

// generatedList is a contact list of n rows made as it is read, never
// whole in memory.
type generatedList struct {
	n, next int
	buf     []byte
}

func (g *generatedList) Read(p []byte) (int, error) {
	for len(g.buf) < len(p) && g.next <= g.n {
		if g.next == 0 {
			g.buf = append(g.buf, "phone,first_name,last_name,appointment,timezone\n"...)
		} else {
			i := g.next - 1
			g.buf = fmt.Appendf(g.buf, "(%03d) %03d-%04d,Ada%d,Lovelace,2026-06-%02d 10:00,%s\n",
				201+i/80000, 200+i/10000%8, i%10000, i, 1+i%28, [3]string{"America/New_York", "", "America/Chicago"}[i%3])
		}
		g.next++
	}
	if len(g.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, g.buf)
	g.buf = g.buf[:copy(g.buf, g.buf[n:])]
	return n, nil
}

func TestReadContacts100kStreamed(t *testing.T) {
	const rows = 100_000
	var accepted, lastRow int
	rep, err := ReadContacts(&generatedList{n: rows}, ImportOptions{Region: "US", Required: []string{"appointment"}},
		func(c records.Contact) error {
			accepted++
			lastRow = c.Row
			if c.Vars["appointment"] == "" || len(c.Number) != 12 {
				return fmt.Errorf("row %d: %+v", c.Row, c)
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rows != rows || rep.Accepted != rows || accepted != rows || lastRow != rows+1 || len(rep.Errors) != 0 {
		t.Fatalf("report %+v, %d emitted, last row %d", rep, accepted, lastRow)
	}
}

func BenchmarkReadContacts100k(b *testing.B) {
	const rows = 100_000
	data, err := io.ReadAll(&generatedList{n: rows})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rep, err := ReadContacts(bytes.NewReader(data), ImportOptions{Region: "US"},
			func(records.Contact) error { return nil })
		if err != nil || rep.Accepted != rows {
			b.Fatal(rep.Accepted, err)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

package dialer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/internal/suggest"
)

// ErrHeader is a contact list whose header line cannot be used.
var ErrHeader = errors.New("contact list header")

// Column names the import recognises, in any case, first match first.
var (
	numberColumns = []string{"phone", "number", "phone_number", "msisdn", "mobile"}
	regionColumns = []string{"region", "country"}
	zoneColumns   = []string{"timezone", "tz", "time_zone"}
)

// DefaultMaxErrors is how many row errors an import report keeps.
const DefaultMaxErrors = 100

// ImportOptions say how to read a contact list.
type ImportOptions struct {
	Campaign string // set on every contact
	// Region reads numbers without a country code, in rows without a
	// region or country column of their own.
	Region string
	// Required are columns every row must fill (the flow's variables).
	Required []string
	// NumberColumn names the number's column; default the first of phone,
	// number, phone_number, msisdn, mobile (in any case).
	NumberColumn string
	// MaxErrors is how many row errors the report keeps (default 100;
	// negative keeps none).
	MaxErrors int
}

// ImportReport counts an import's rows and keeps their first errors.
type ImportReport struct {
	Rows     int `json:"rows"`     // data rows read
	Accepted int `json:"accepted"` // emitted
	Rejected int `json:"rejected"`
	// Duplicates are the rejected rows whose number an earlier row has.
	Duplicates int        `json:"duplicates"`
	Errors     []RowError `json:"errors,omitempty"`
	// Truncated is set when errors were left out past MaxErrors.
	Truncated bool `json:"truncated,omitempty"`
}

// RowError is one problem of one row of a contact list.
type RowError struct {
	Row     int    `json:"row"`              // CSV line; the header is 1
	Column  string `json:"column,omitempty"` // as the header names it
	Value   string `json:"value,omitempty"`
	Message string `json:"message"`
}

// Error reads `row 17, column "phone": "555-01": too short for US: 6
// digits, need 10`.
func (e RowError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "row %d", e.Row)
	if e.Column != "" {
		fmt.Fprintf(&b, ", column %q", e.Column)
	}
	if e.Value != "" {
		fmt.Fprintf(&b, ": %q", e.Value)
	}
	b.WriteString(": " + e.Message)
	return b.String()
}

// ReadContacts reads a CSV contact list, streaming: each valid row is
// passed to emit as a pending contact (its number in E.164, its time zone
// checked, every other named column in Vars), and the report counts and
// explains the rejected ones. The delimiter (',', ';' or tab) is taken
// from the header line; a UTF-8 BOM is skipped; unnamed columns are
// ignored. A header it cannot use, a read error or emit's error ends the
// import with an error and the report so far.
func ReadContacts(r io.Reader, opt ImportOptions, emit func(records.Contact) error) (ImportReport, error) {
	var rep ImportReport
	if opt.Region != "" && !KnownRegion(opt.Region) {
		return rep, fmt.Errorf("read contacts: region %q: %w", opt.Region, ErrUnknownRegion)
	}
	if opt.MaxErrors == 0 {
		opt.MaxErrors = DefaultMaxErrors
	}
	br := bufio.NewReaderSize(r, 64<<10)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\uFEFF")) {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.Comma = sniffDelimiter(br)
	cr.FieldsPerRecord = -1 // a row's field count is a row error, not the end
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return rep, fmt.Errorf("%w: empty file, no header line", ErrHeader)
	}
	if err != nil {
		return rep, fmt.Errorf("%w: %w", ErrHeader, err)
	}
	cols, err := readHeader(header, opt)
	if err != nil {
		return rep, err
	}
	im := importer{opt: opt, cols: cols, rep: &rep, seen: map[string]int{}}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return rep, nil
		}
		var perr *csv.ParseError
		if errors.As(err, &perr) {
			rep.Rows++
			rep.Rejected++
			im.report(RowError{Row: perr.StartLine, Message: "not CSV: " + perr.Err.Error()})
			continue
		}
		if err != nil {
			return rep, fmt.Errorf("read contacts: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if err := im.row(line, rec, emit); err != nil {
			return rep, err
		}
	}
}

// sniffDelimiter picks the header line's delimiter: ';' or tab where they
// outnumber commas outside quotes, else ','.
func sniffDelimiter(br *bufio.Reader) rune {
	var line []byte
	for n := 512; ; n *= 2 {
		buf, err := br.Peek(min(n, br.Size()))
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			line = buf[:i]
			break
		}
		if err != nil || n >= br.Size() {
			line = buf
			break
		}
	}
	counts := map[byte]int{}
	quoted := false
	for _, c := range line {
		switch {
		case c == '"':
			quoted = !quoted
		case !quoted && (c == ',' || c == ';' || c == '\t'):
			counts[c]++
		}
	}
	best := byte(',')
	for _, c := range []byte{';', '\t'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return rune(best)
}

// columns are where the header puts what the import reads.
type columns struct {
	names    []string // trimmed header names; "" for unnamed columns
	number   int
	region   int // -1 when absent
	zone     int // -1 when absent
	required []int
}

// readHeader finds the columns, or says what is wrong with the header.
func readHeader(header []string, opt ImportOptions) (columns, error) {
	cols := columns{names: make([]string, len(header)), region: -1, zone: -1}
	index := map[string]int{} // lower-case name -> column
	for i, h := range header {
		name := strings.TrimSpace(h)
		cols.names[i] = name
		if name == "" {
			continue
		}
		key := strings.ToLower(name)
		if first, dup := index[key]; dup {
			return cols, fmt.Errorf("%w: column %q appears twice (columns %d and %d)", ErrHeader, name, first+1, i+1)
		}
		index[key] = i
	}
	find := func(names []string) int {
		for _, n := range names {
			if i, ok := index[n]; ok {
				return i
			}
		}
		return -1
	}
	wanted := numberColumns
	if opt.NumberColumn != "" {
		wanted = []string{strings.ToLower(strings.TrimSpace(opt.NumberColumn))}
	}
	if cols.number = find(wanted); cols.number < 0 {
		return cols, fmt.Errorf("%w: no phone number column (%s) among %s%s", ErrHeader,
			strings.Join(wanted, ", "), quoteList(cols.names), didYouMean(cols.names, wanted))
	}
	cols.region, cols.zone = find(regionColumns), find(zoneColumns)
	for _, req := range opt.Required {
		i, ok := index[strings.ToLower(strings.TrimSpace(req))]
		if !ok {
			return cols, fmt.Errorf("%w: required column %q missing among %s%s", ErrHeader,
				req, quoteList(cols.names), didYouMean(cols.names, []string{strings.ToLower(req)}))
		}
		cols.required = append(cols.required, i)
	}
	return cols, nil
}

// quoteList writes up to 20 column names for an error message.
func quoteList(names []string) string {
	var q []string
	for _, n := range names {
		if n != "" {
			q = append(q, fmt.Sprintf("%q", n))
		}
	}
	if len(q) == 0 {
		return "no named column"
	}
	if len(q) > 20 {
		q = append(q[:20], fmt.Sprintf("and %d more", len(q)-20))
	}
	return strings.Join(q, ", ")
}

// didYouMean suggests the first header name that looks like a wanted one.
func didYouMean(names, wanted []string) string {
	for _, n := range names {
		if s := suggest.Nearest(strings.ToLower(n), wanted, 3); s != "" && n != "" {
			return fmt.Sprintf("; is %q meant as %q?", n, s)
		}
	}
	return ""
}

// importer checks rows against the header's columns.
type importer struct {
	opt  ImportOptions
	cols columns
	rep  *ImportReport
	seen map[string]int // E.164 number -> the row that has it
}

// report keeps a row error, up to MaxErrors.
func (im *importer) report(e RowError) {
	if len(im.rep.Errors) >= im.opt.MaxErrors {
		im.rep.Truncated = true
		return
	}
	im.rep.Errors = append(im.rep.Errors, e)
}

// row checks one record and emits its contact, or reports why not.
func (im *importer) row(line int, rec []string, emit func(records.Contact) error) error {
	im.rep.Rows++
	if len(rec) != len(im.cols.names) {
		im.rep.Rejected++
		im.report(RowError{Row: line, Message: fmt.Sprintf("%d fields, the header has %d", len(rec), len(im.cols.names))})
		return nil
	}
	c, errs := im.contact(line, rec)
	if len(errs) == 0 {
		if first, dup := im.seen[c.Number]; dup {
			im.rep.Duplicates++
			errs = append(errs, RowError{Row: line, Column: im.cols.names[im.cols.number],
				Value: strings.TrimSpace(rec[im.cols.number]), Message: fmt.Sprintf("duplicate of row %d (%s)", first, c.Number)})
		}
	}
	if len(errs) > 0 {
		im.rep.Rejected++
		for _, e := range errs {
			im.report(e)
		}
		return nil
	}
	if err := emit(c); err != nil {
		return fmt.Errorf("read contacts: row %d: %w", line, err)
	}
	im.rep.Accepted++
	im.seen[c.Number] = line
	return nil
}

// contact reads a record of the header's length into a contact.
func (im *importer) contact(line int, rec []string) (records.Contact, []RowError) {
	cols := im.cols
	var errs []RowError
	value := func(i int) string {
		if i < 0 {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	c := records.Contact{Campaign: im.opt.Campaign, Row: line, State: records.ContactPending}
	region := im.opt.Region
	if v := value(cols.region); v != "" {
		region = v
	}
	raw := value(cols.number)
	number, err := NormalizeNumber(raw, region)
	var nerr *NumberError
	switch {
	case errors.As(err, &nerr):
		errs = append(errs, RowError{Row: line, Column: cols.names[cols.number], Value: raw, Message: nerr.Reason})
	case errors.Is(err, ErrUnknownRegion):
		errs = append(errs, RowError{Row: line, Column: cols.names[cols.region], Value: region,
			Message: ErrUnknownRegion.Error() + ", needed for the national number " + raw})
	}
	c.Number = number
	if tz := value(cols.zone); tz != "" {
		if _, err := LoadZone(tz); err != nil {
			errs = append(errs, RowError{Row: line, Column: cols.names[cols.zone], Value: tz, Message: ErrUnknownZone.Error()})
		}
		c.Timezone = tz
	}
	for _, i := range cols.required {
		if value(i) == "" {
			errs = append(errs, RowError{Row: line, Column: cols.names[i], Message: "empty, and the column is required"})
		}
	}
	if len(errs) > 0 {
		return c, errs
	}
	c.Vars = make(map[string]string, len(rec))
	for i, name := range cols.names {
		if name != "" && i != cols.number && i != cols.zone {
			c.Vars[name] = value(i)
		}
	}
	return c, nil
}

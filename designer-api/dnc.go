package designerapi

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/dialer"
	"github.com/voxflow/voxflow/store"
)

// Do-not-call lists: the global one (campaign "") and one per campaign.
// Numbers are stored in E.164, normalised with dialer.NormalizeNumber in
// the region a request names (default DefaultDNCRegion).

// DefaultDNCRegion is the region of numbers written without a country code.
const DefaultDNCRegion = "US"

// maxImportErrors bounds the rejected rows a report lists.
const maxImportErrors = 100

// DNCOptions say how ReadDNC reads a do-not-call CSV.
type DNCOptions struct {
	// Region is the country of numbers without a country code.
	Region string
	// Campaign is the list of rows that name none ("" the global list).
	Campaign string
}

// dncNumberColumns name the number's column in a header (the contacts
// import's names).
var dncNumberColumns = []string{"phone", "number", "phone_number", "msisdn", "mobile"}

// dncColumns are where a DNC CSV's fields are (-1: absent).
type dncColumns struct{ number, reason, campaign int }

// dncHeader reads the first record as a header when it names a number
// column; else the file has none: number, then reason, then campaign.
func dncHeader(rec []string) (dncColumns, bool) {
	cols := dncColumns{number: -1, reason: -1, campaign: -1}
	for i, name := range rec {
		name = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(name, "\ufeff")))
		switch {
		case cols.number < 0 && slices.Contains(dncNumberColumns, name):
			cols.number = i
		case cols.reason < 0 && name == "reason":
			cols.reason = i
		case cols.campaign < 0 && name == "campaign":
			cols.campaign = i
		}
	}
	if cols.number < 0 {
		return dncColumns{number: 0, reason: 1, campaign: 2}, false
	}
	return cols, true
}

func field(rec []string, i int) string {
	if i < 0 || i >= len(rec) {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

// ReadDNC streams a do-not-call CSV: one number per row, with optional
// reason and campaign columns, after an optional header naming them (the
// number's column as phone, number, phone_number, msisdn or mobile).
// Without a header the columns are number, reason, campaign. Blank rows
// are skipped; a bad number rejects its row. emit gets each entry; an
// ImportError from it rejects the row, any other error ends the reading.
// The report's Accepted counts the rows emitted (the caller sets
// Accepted and Duplicates from what the store added).
func ReadDNC(r io.Reader, opt DNCOptions, emit func(records.DNCEntry) error) (ImportReport, error) {
	rep := ImportReport{Errors: []ImportError{}}
	reject := func(e ImportError) {
		rep.Rejected++
		if len(rep.Errors) < maxImportErrors {
			rep.Errors = append(rep.Errors, e)
		} else {
			rep.Truncated = true
		}
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	var cols dncColumns
	for first := true; ; first = false {
		rec, err := cr.Read()
		if err == io.EOF {
			return rep, nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return rep, fmt.Errorf("row %d: not CSV: %w", pe.StartLine, pe.Err)
		}
		if err != nil {
			return rep, err
		}
		line, _ := cr.FieldPos(0)
		if first {
			var header bool
			if cols, header = dncHeader(rec); header {
				continue
			}
		}
		if len(rec) == 1 && strings.TrimSpace(strings.TrimPrefix(rec[0], "\ufeff")) == "" {
			continue // a blank row
		}
		rep.Rows++
		raw := strings.TrimPrefix(field(rec, cols.number), "\ufeff")
		number, err := dialer.NormalizeNumber(raw, opt.Region)
		if err != nil {
			reject(ImportError{Row: line, Column: columnName(cols.number, "number"), Value: raw, Message: err.Error()})
			continue
		}
		e := records.DNCEntry{Number: number, Reason: field(rec, cols.reason), Campaign: field(rec, cols.campaign)}
		if e.Campaign == "" {
			e.Campaign = opt.Campaign
		}
		var rowErr ImportError
		switch err := emit(e); {
		case errors.As(err, &rowErr):
			rowErr.Row = line
			reject(rowErr)
		case err != nil:
			return rep, err
		default:
			rep.Accepted++
		}
	}
}

func columnName(i int, name string) string {
	if i < 0 {
		return ""
	}
	return name
}

// DNCEntryInput is a number to add to a do-not-call list.
type DNCEntryInput struct {
	Number   string `json:"number" minLength:"1" doc:"The number; without a country code it is read in ?region="`
	Campaign string `json:"campaign,omitempty" doc:"The campaign whose list it goes on; absent: the global list"`
	Reason   string `json:"reason,omitempty" doc:"Why, for the record (\"asked on a call\")"`
}

// DNCRejected is an entry of POST /dnc that was not added.
type DNCRejected struct {
	Index   int    `json:"index" doc:"Its place in the request's list, from 0"`
	Number  string `json:"number"`
	Message string `json:"message"`
}

// DNCRegionParam is the region of numbers written without a country code.
type DNCRegionParam struct {
	Region string `query:"region" pattern:"^[A-Za-z]{2}$" default:"US" doc:"ISO 3166 country of numbers written without a country code"`
}

type addDNCInput struct {
	DNCRegionParam
	Body []DNCEntryInput `maxItems:"10000"`
}

type addDNCOutput struct {
	Body struct {
		Added    int           `json:"added" doc:"Numbers newly listed"`
		Listed   int           `json:"already_listed" doc:"Numbers that were on their list already"`
		Rejected []DNCRejected `json:"rejected" doc:"Entries not added, and why"`
	}
}

type listDNCInput struct {
	Campaign string `query:"campaign" doc:"The campaign's list; absent: the global list"`
	After    string `query:"after" doc:"Numbers after this one: next_after of the previous page"`
	Limit    int    `query:"limit" minimum:"1" maximum:"1000" default:"100"`
}

type listDNCOutput struct {
	Body struct {
		Entries   []records.DNCEntry `json:"entries" doc:"By number"`
		NextAfter string             `json:"next_after,omitempty" doc:"Pass as after for the next page; absent on the last"`
	}
}

type importDNCInput struct {
	DNCRegionParam
	Campaign string `query:"campaign" doc:"The list of rows that name no campaign; absent: the global list"`
	CSVUpload
}

type removeDNCInput struct {
	DNCRegionParam
	Number   string `path:"number" doc:"The number (E.164, or national in ?region=)"`
	Campaign string `query:"campaign" doc:"The campaign's list; absent: the global list"`
}

type checkDNCInput struct {
	DNCRegionParam
	Number   string `query:"number" required:"true" minLength:"1"`
	Campaign string `query:"campaign" doc:"Check this campaign's list too"`
}

// DNCCheck says whether a number may not be called.
type DNCCheck struct {
	Number string            `json:"number" doc:"The number in E.164"`
	Listed bool              `json:"listed"`
	Entry  *records.DNCEntry `json:"entry,omitempty" doc:"The listing (the global one first)"`
}

type checkDNCOutput struct {
	Body DNCCheck
}

func dncOp(id, method, path string, min Role, summary string) huma.Operation {
	return op(id, method, path, min, "dnc", summary)
}

func (s *server) registerDNC(api huma.API) {
	huma.Register(api, dncOp("list-dnc", http.MethodGet, "/dnc", RoleSupervisor,
		"A do-not-call list, by number, a page at a time"), requires(s.needStore, s.listDNC))
	huma.Register(api, dncOp("add-dnc", http.MethodPost, "/dnc", RoleAdmin,
		"Add numbers to do-not-call lists: each is normalised to E.164; a bad one is rejected alone, named by its index"),
		requires(s.needStore, s.addDNC))
	o := dncOp("import-dnc", http.MethodPost, "/dnc/import", RoleAdmin,
		fmt.Sprintf("Add numbers from a CSV (text/csv, at most %d MiB): one number per row with optional reason and campaign columns, "+
			"after an optional header (phone or number, reason, campaign)", MaxImportBytes>>20))
	o.RequestBody = csvRequestBody("The numbers, one per row")
	o.Errors = append(o.Errors, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity)
	huma.Register(api, o, requires(s.needStore, s.importDNC))
	huma.Register(api, dncOp("check-dnc", http.MethodGet, "/dnc/check", RoleSupervisor,
		"Whether a number is on the global do-not-call list or a campaign's"), requires(s.needStore, s.checkDNC))
	o = dncOp("remove-dnc", http.MethodDelete, "/dnc/{number}", RoleAdmin, "Take a number off a do-not-call list")
	o.DefaultStatus = http.StatusNoContent
	huma.Register(api, o, requires(s.needStore, s.removeDNC))
}

func (s *server) listDNC(ctx context.Context, in *listDNCInput) (*listDNCOutput, error) {
	es, err := s.cfg.Store.ListDNC(ctx, in.Campaign, in.After, in.Limit+1)
	if err != nil {
		return nil, s.fail("list do-not-call numbers", err)
	}
	out := &listDNCOutput{}
	if len(es) > in.Limit {
		es = es[:in.Limit]
		out.Body.NextAfter = es[len(es)-1].Number
	}
	out.Body.Entries = append([]records.DNCEntry{}, es...)
	return out, nil
}

// campaignKnown checks that the campaigns entries name exist, asking the
// store once per campaign.
type campaignKnown struct {
	st   *store.Store
	seen map[string]bool
}

func (k *campaignKnown) check(ctx context.Context, id string) (bool, error) {
	if id == "" {
		return true, nil
	}
	if ok, done := k.seen[id]; done {
		return ok, nil
	}
	_, err := k.st.GetCampaign(ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	if k.seen == nil {
		k.seen = map[string]bool{}
	}
	k.seen[id] = err == nil
	return err == nil, nil
}

func (s *server) addDNC(ctx context.Context, in *addDNCInput) (*addDNCOutput, error) {
	out := &addDNCOutput{}
	out.Body.Rejected = []DNCRejected{}
	known := campaignKnown{st: s.cfg.Store}
	var entries []records.DNCEntry
	for i, e := range in.Body {
		number, err := dialer.NormalizeNumber(e.Number, in.Region)
		if err != nil {
			out.Body.Rejected = append(out.Body.Rejected, DNCRejected{Index: i, Number: e.Number, Message: err.Error()})
			continue
		}
		ok, err := known.check(ctx, e.Campaign)
		if err != nil {
			return nil, s.fail("add do-not-call numbers", err)
		}
		if !ok {
			out.Body.Rejected = append(out.Body.Rejected, DNCRejected{Index: i, Number: e.Number, Message: fmt.Sprintf("no campaign %q", e.Campaign)})
			continue
		}
		entries = append(entries, records.DNCEntry{Number: number, Campaign: e.Campaign, Reason: e.Reason, AddedAt: time.Now().UTC()})
	}
	if len(entries) > 0 {
		added, err := s.cfg.Store.AddDNC(ctx, entries)
		if err != nil {
			return nil, s.fail("add do-not-call numbers", err)
		}
		out.Body.Added, out.Body.Listed = added, len(entries)-added
		s.nudgeAfterDNC(ctx, entries)
	}
	return out, nil
}

// nudgeAfterDNC nudges the running campaigns entries concern (all for a
// global entry).
func (s *server) nudgeAfterDNC(ctx context.Context, entries []records.DNCEntry) {
	if s.cfg.Campaigns == nil {
		return
	}
	only, all := map[string]bool{}, false
	for _, e := range entries {
		all = all || e.Campaign == ""
		only[e.Campaign] = true
	}
	for _, id := range s.running(ctx, "") {
		if all || only[id] {
			s.nudge(context.WithoutCancel(ctx), id)
		}
	}
}

func (s *server) importDNC(ctx context.Context, in *importDNCInput) (*importContactsOutput, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	known := campaignKnown{st: s.cfg.Store}
	if ok, err := known.check(ctx, in.Campaign); err != nil {
		return nil, s.fail("import do-not-call numbers", err)
	} else if !ok {
		return nil, huma.Error422UnprocessableEntity("unknown campaign", &huma.ErrorDetail{
			Message: fmt.Sprintf("no campaign %q", in.Campaign), Location: "query.campaign", Value: in.Campaign})
	}
	rep, err := ImportDNC(ctx, s.cfg.Store, DNCOptions{Region: in.Region, Campaign: in.Campaign}, in.body)
	if rep.Accepted > 0 {
		s.nudge(context.WithoutCancel(ctx), s.running(ctx, "")...)
	}
	if err != nil {
		return nil, s.importProblem("import do-not-call numbers", rep, err)
	}
	return &importContactsOutput{Body: rep}, nil
}

// ImportDNC streams a do-not-call CSV (ReadDNC) into the store, ImportBatch
// numbers per transaction. A row naming an unknown campaign is rejected.
// Accepted counts the numbers newly listed, Duplicates those listed
// already (or twice in the file). Errors are as ImportContacts's.
func ImportDNC(ctx context.Context, st *store.Store, opt DNCOptions, r io.Reader) (ImportReport, error) {
	known := &campaignKnown{st: st}
	var added, dups int
	batch := make([]records.DNCEntry, 0, ImportBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		n, err := st.AddDNC(ctx, batch)
		if err != nil {
			return errStore{fmt.Errorf("import do-not-call numbers: %w", err)}
		}
		added, dups = added+n, dups+len(batch)-n
		batch = batch[:0]
		return nil
	}
	rep, err := ReadDNC(r, opt, func(e records.DNCEntry) error {
		ok, err := known.check(ctx, e.Campaign)
		if err != nil {
			return errStore{err}
		}
		if !ok {
			return ImportError{Column: "campaign", Value: e.Campaign, Message: "no such campaign"}
		}
		e.AddedAt = time.Now().UTC()
		batch = append(batch, e)
		if len(batch) == ImportBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	rep.Accepted, rep.Duplicates = added, dups
	return rep, err
}

func (s *server) removeDNC(ctx context.Context, in *removeDNCInput) (*struct{}, error) {
	number, err := dialer.NormalizeNumber(in.Number, in.Region)
	if err != nil {
		return nil, huma.Error422UnprocessableEntity("bad number", &huma.ErrorDetail{Message: err.Error(), Location: "path.number", Value: in.Number})
	}
	ok, err := s.cfg.Store.RemoveDNC(ctx, number, in.Campaign)
	if err != nil {
		return nil, s.fail("remove do-not-call number", err)
	}
	if !ok {
		return nil, huma.Error404NotFound(fmt.Sprintf("%s is not on %s", number, dncList(in.Campaign)))
	}
	return nil, nil
}

// dncList names a list for messages.
func dncList(campaign string) string {
	if campaign == "" {
		return "the global do-not-call list"
	}
	return fmt.Sprintf("campaign %s's do-not-call list", campaign)
}

func (s *server) checkDNC(ctx context.Context, in *checkDNCInput) (*checkDNCOutput, error) {
	number, err := dialer.NormalizeNumber(in.Number, in.Region)
	if err != nil {
		return nil, huma.Error422UnprocessableEntity("bad number", &huma.ErrorDetail{Message: err.Error(), Location: "query.number", Value: in.Number})
	}
	e, listed, err := s.cfg.Store.CheckDNC(ctx, number, in.Campaign)
	if err != nil {
		return nil, s.fail("check do-not-call number", err)
	}
	out := &checkDNCOutput{Body: DNCCheck{Number: number, Listed: listed}}
	if listed {
		out.Body.Entry = &e
	}
	return out, nil
}

package designerapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/dialer"
	"github.com/voxflow/voxflow/store"
)

// CSV uploads (contacts, do-not-call numbers) are read as they arrive,
// never whole: MaxImportBytes bounds one upload, ImportBatch the rows
// written to the store in one transaction, importReadTimeout the time the
// client has to send it.
const (
	MaxImportBytes    = 64 << 20
	ImportBatch       = 1000
	importReadTimeout = 5 * time.Minute
)

// ErrImportTooLarge is an upload past MaxImportBytes.
var ErrImportTooLarge = fmt.Errorf("the CSV is larger than %d MiB: split it and upload the parts", MaxImportBytes>>20)

// cappedReader fails with ErrImportTooLarge once more than left bytes come.
type cappedReader struct {
	r    io.Reader
	left int64
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var probe [1]byte
		n, err := c.r.Read(probe[:])
		if n > 0 {
			return 0, ErrImportTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// CSVUpload takes a request's body as a stream: huma reads no declared
// body, so the handler reads it, capped, as it arrives. Operations embed it.
type CSVUpload struct {
	ContentType string `header:"Content-Type" doc:"text/csv"`
	body        io.Reader
}

// Resolve keeps the body's reader and gives a large upload time to come.
func (u *CSVUpload) Resolve(ctx huma.Context) []error {
	u.body = &cappedReader{r: ctx.BodyReader(), left: MaxImportBytes}
	_ = ctx.SetReadDeadline(time.Now().Add(importReadTimeout))
	return nil
}

// check refuses what is not a CSV of allowed size before reading it.
func (u *CSVUpload) check() error {
	if u.ContentType == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(u.ContentType)
	switch {
	case err != nil:
	case mt == "text/csv", mt == "application/csv", mt == "text/plain", mt == "application/vnd.ms-excel": // what browsers call .csv files
		return nil
	}
	return huma.NewError(http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %q: send the file as text/csv", u.ContentType))
}

// csvRequestBody documents a CSV upload in the OpenAPI document.
func csvRequestBody(desc string) *huma.RequestBody {
	return &huma.RequestBody{Required: true, Description: desc,
		Content: map[string]*huma.MediaType{"text/csv": {Schema: &huma.Schema{Type: "string"}}}}
}

// ImportError is a rejected row of a CSV upload.
type ImportError struct {
	Row     int    `json:"row" doc:"The CSV line (the header is 1)"`
	Column  string `json:"column,omitempty"`
	Value   string `json:"value,omitempty"`
	Message string `json:"message"`
}

// Error is how the CLI prints it: row 17, column "phone": "555-01": too short.
func (e ImportError) Error() string {
	s := fmt.Sprintf("row %d", e.Row)
	if e.Column != "" {
		s += fmt.Sprintf(", column %q", e.Column)
	}
	if e.Value != "" {
		s += fmt.Sprintf(": %q", e.Value)
	}
	return s + ": " + e.Message
}

// ImportReport is what a contacts upload came to. Rows = Accepted +
// Duplicates + Rejected. Uploading a file again adds nothing twice: its
// numbers are then duplicates.
type ImportReport struct {
	Rows       int           `json:"rows" doc:"Data rows read, the header not counted"`
	Accepted   int           `json:"accepted" doc:"Rows added to the campaign's list"`
	Duplicates int           `json:"duplicates" doc:"Valid rows whose number was already on the list: not added again"`
	Rejected   int           `json:"rejected" doc:"Rows refused: errors says why"`
	Errors     []ImportError `json:"errors" doc:"The first rejected rows' problems"`
	Truncated  bool          `json:"truncated,omitempty" doc:"More rows were rejected than errors lists"`
}

// errStore marks a store failure during an import (a server error), as
// opposed to a problem of the file.
type errStore struct{ err error }

func (e errStore) Error() string { return e.err.Error() }
func (e errStore) Unwrap() error { return e.err }

// ImportContacts streams a contacts CSV into campaign c's list
// (dialer.ReadContacts with the campaign's region and required columns),
// writing ImportBatch rows per transaction. On error the report counts
// what was read and added before it: added rows stay. A failure of the
// store wraps the store's error; any other is a problem of the file
// (a bad header, ErrImportTooLarge).
func ImportContacts(ctx context.Context, st *store.Store, c records.Campaign, r io.Reader) (ImportReport, error) {
	rep := ImportReport{Errors: []ImportError{}}
	batch := make([]records.Contact, 0, ImportBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		added, dups, err := st.AddContacts(ctx, c.ID, batch)
		if err != nil {
			return errStore{fmt.Errorf("import contacts of campaign %q: %w", c.ID, err)}
		}
		rep.Accepted += added
		rep.Duplicates += dups
		batch = batch[:0]
		return nil
	}
	read, err := dialer.ReadContacts(r, dialer.ImportOptions{Campaign: c.ID, Region: c.Region, Required: c.Required},
		func(k records.Contact) error {
			if k.State == "" {
				k.State = records.ContactPending
			}
			k.Campaign = c.ID
			batch = append(batch, k)
			if len(batch) == ImportBatch {
				return flush()
			}
			return nil
		})
	if err == nil {
		err = flush()
	}
	rep.Rows, rep.Rejected, rep.Truncated = read.Rows, read.Rejected, read.Truncated
	for _, e := range read.Errors {
		rep.Errors = append(rep.Errors, ImportError{Row: e.Row, Column: e.Column, Value: e.Value, Message: e.Message})
	}
	return rep, err
}

// importProblem answers an import's error: the store's as a server
// error, the file's as 413 or 422 saying what was kept.
func (s *server) importProblem(what string, rep ImportReport, err error) error {
	var se errStore
	if errors.As(err, &se) {
		return s.fail(what, err)
	}
	kept := ""
	if rep.Accepted > 0 {
		kept = fmt.Sprintf(" (the %d rows added before it are kept; uploading the file again adds nothing twice)", rep.Accepted)
	}
	if errors.Is(err, ErrImportTooLarge) {
		return huma.Error413RequestEntityTooLarge(err.Error() + kept)
	}
	return huma.Error422UnprocessableEntity(err.Error() + kept)
}

type importContactsInput struct {
	CampaignIDParam
	CSVUpload
}

type importContactsOutput struct {
	Body ImportReport
}

// Contacts and attempts.

type listContactsInput struct {
	CampaignIDParam
	State string `query:"state" enum:"pending,dialing,done,skipped" doc:"Only contacts in this state"`
	After int64  `query:"after" minimum:"0" doc:"Contacts after this ID: next_after of the previous page"`
	Limit int    `query:"limit" minimum:"1" maximum:"1000" default:"100"`
}

type listContactsOutput struct {
	Body struct {
		Contacts  []records.Contact `json:"contacts" doc:"By ID"`
		NextAfter int64             `json:"next_after,omitempty" doc:"Pass as after for the next page; absent on the last"`
	}
}

// Attempt is one dial of a contact.
type Attempt struct {
	Contact     int64     `json:"contact"`
	Attempt     int       `json:"attempt"`
	CallID      string    `json:"call_id"`
	Number      string    `json:"number"`
	StartedAt   time.Time `json:"started_at"`
	EndedAt     time.Time `json:"ended_at,omitzero"`
	Outcome     string    `json:"outcome,omitempty" doc:"answered_human, answered_machine, busy, no_answer, failed, invalid_number, dnc or abandoned"`
	AnsweredBy  string    `json:"answered_by,omitempty"`
	Agent       string    `json:"agent,omitempty"`
	Connect     string    `json:"connect,omitempty" doc:"Answer to agent connected (Go duration)"`
	Talk        string    `json:"talk,omitempty" doc:"Go duration"`
	Disposition string    `json:"disposition,omitempty"`
}

func attemptOf(a records.DialAttempt) Attempt {
	return Attempt{Contact: a.Contact, Attempt: a.Attempt, CallID: a.CallID, Number: a.Number, StartedAt: a.StartedAt,
		EndedAt: a.EndedAt, Outcome: a.Outcome, AnsweredBy: a.AnsweredBy, Agent: a.Agent, Connect: durText(a.Connect),
		Talk: durText(a.Talk), Disposition: a.Disposition}
}

type listAttemptsInput struct {
	CampaignIDParam
	Contact int64 `query:"contact" minimum:"0" doc:"Only this contact's attempts (0 or absent: every contact's)"`
}

type listAttemptsOutput struct {
	Body struct {
		Attempts []Attempt `json:"attempts" doc:"Newest first, at most 1000"`
	}
}

func (s *server) registerCampaignContacts(api huma.API) {
	o := campaignOp("import-contacts", http.MethodPost, "/campaigns/{id}/contacts", RoleAdmin,
		fmt.Sprintf("Add contacts from a CSV (text/csv, at most %d MiB): a header naming the columns; the number in phone, number, "+
			"phone_number, msisdn or mobile; an optional timezone and region; the other columns become the flow's variables. "+
			"Answers what came of the rows", MaxImportBytes>>20))
	o.RequestBody = csvRequestBody("The contacts, one per row after the header")
	o.Errors = append(o.Errors, http.StatusNotFound, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity)
	huma.Register(api, o, requires(s.needStore, s.importContacts))
	huma.Register(api, campaignOp("list-contacts", http.MethodGet, "/campaigns/{id}/contacts", RoleSupervisor,
		"A campaign's contacts by ID, a page at a time"),
		requires(s.needStore, s.listContacts))
	huma.Register(api, campaignOp("list-attempts", http.MethodGet, "/campaigns/{id}/attempts", RoleSupervisor,
		"A campaign's dial attempts, or one contact's, newest first"),
		requires(s.needStore, s.listAttempts))
}

func (s *server) importContacts(ctx context.Context, in *importContactsInput) (*importContactsOutput, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	what := "import contacts of campaign " + in.ID
	c, err := s.cfg.Store.GetCampaign(ctx, in.ID)
	if err != nil {
		return nil, s.fail(what, err)
	}
	rep, err := ImportContacts(ctx, s.cfg.Store, c, in.body)
	if rep.Accepted > 0 && c.State == records.CampaignRunning {
		s.nudge(context.WithoutCancel(ctx), c.ID)
	}
	if err != nil {
		return nil, s.importProblem(what, rep, err)
	}
	return &importContactsOutput{Body: rep}, nil
}

func (s *server) listContacts(ctx context.Context, in *listContactsInput) (*listContactsOutput, error) {
	if _, err := s.cfg.Store.GetCampaign(ctx, in.ID); err != nil {
		return nil, s.fail("list contacts", err)
	}
	cs, err := s.cfg.Store.ListContacts(ctx, in.ID, in.State, in.After, in.Limit+1)
	if err != nil {
		return nil, s.fail("list contacts", err)
	}
	out := &listContactsOutput{}
	if len(cs) > in.Limit {
		cs = cs[:in.Limit]
		out.Body.NextAfter = cs[len(cs)-1].ID
	}
	out.Body.Contacts = append([]records.Contact{}, cs...)
	return out, nil
}

func (s *server) listAttempts(ctx context.Context, in *listAttemptsInput) (*listAttemptsOutput, error) {
	if _, err := s.cfg.Store.GetCampaign(ctx, in.ID); err != nil {
		return nil, s.fail("list attempts", err)
	}
	as, err := s.cfg.Store.ListAttempts(ctx, in.ID, in.Contact)
	if err != nil {
		return nil, s.fail("list attempts", err)
	}
	out := &listAttemptsOutput{}
	out.Body.Attempts = []Attempt{}
	for _, a := range as {
		out.Body.Attempts = append(out.Body.Attempts, attemptOf(a))
	}
	return out, nil
}

package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/voxflow/voxflow/activities/records"
)

// CDRQuery filters SearchCDRs. Zero fields do not filter.
type CDRQuery struct {
	Flow    string
	From    string // caller, exact match
	Outcome string
	// Disposition and Sentiment keep the records whose insights have that
	// disposition and that sentiment label (positive, neutral, negative);
	// exact, case-sensitive. A record without insights matches neither.
	Disposition string
	Sentiment   string
	// Queue keeps the records of calls that stayed in that queue (exact
	// name, case-sensitive).
	Queue string
	// Campaign keeps the records of the calls that campaign dialled
	// (exact id).
	Campaign string
	// StartedAfter is inclusive, StartedBefore exclusive.
	StartedAfter  time.Time
	StartedBefore time.Time
	// Limit is the page size: default 50, at most 1000 (larger is clamped).
	Limit int
	// PageToken continues a search: the token returned with the previous page
	// (same filters). Empty starts at the newest record.
	PageToken string
}

const (
	defaultCDRLimit = 50
	maxCDRLimit     = 1000
)

// cdrColumns are what SearchCDRs reads; CDR reads the transcript too.
const cdrColumns = `call_id, run_id, workflow_id, flow, flow_version, from_number, to_number, channel,
	started_at, ended_at, duration_ns, outcome, path, vars, recordings, queues, insights, campaign_call`

// normCDR applies the store's time convention (UTC, microseconds) to every
// time of a record, so what is read back equals what was written.
func normCDR(r records.CDR) records.CDR {
	r.StartedAt = normTime(r.StartedAt)
	r.EndedAt = normTime(r.EndedAt)
	if r.Path != nil {
		path := make([]records.Step, len(r.Path))
		for i, st := range r.Path {
			st.EnteredAt = normTime(st.EnteredAt)
			st.LeftAt = normTime(st.LeftAt)
			path[i] = st
		}
		r.Path = path
	}
	if r.Queues != nil {
		stays := make([]records.QueueStay, len(r.Queues))
		for i, st := range r.Queues {
			st.EnqueuedAt = normTime(st.EnqueuedAt)
			stays[i] = st
		}
		r.Queues = stays
	}
	if r.Transcript != nil {
		r.Transcript = normLines(r.Transcript)
	}
	return r
}

// normLines is lines with the store's time convention, in a copy.
func normLines(lines []records.ChatLine) []records.ChatLine {
	out := make([]records.ChatLine, len(lines))
	for i, l := range lines {
		l.At = normTime(l.At)
		out[i] = l
	}
	return out
}

// SaveCDR stores a call record. It is idempotent on (CallID, RunID): saving
// the same call run again (an activity retry) replaces the row instead of
// adding one. Times are normalised to UTC microseconds, including the path's
// and the queue stays'.
//
// A queue stay's WrapUp, Disposition and Notes are written later by SetCDRWrapUp;
// saving the run again keeps them where the saved stay (same position,
// queue, enqueue time and agent) carries neither.
//
// Insights, Transcript and the Campaign tag are kept when a save of the
// same run carries none: the engine saves the run a second time with its
// insights once the summary is made, and a late retry of the first save
// must not erase them.
func (s *Store) SaveCDR(ctx context.Context, rec records.CDR) error {
	if len(rec.Queues) == 0 {
		return s.saveCDR(ctx, s.db, rec)
	}
	rec = normCDR(rec)
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var stored []byte
		err := tx.QueryRowContext(ctx, s.rebind(`SELECT queues FROM cdrs WHERE call_id = ? AND run_id = ?`+s.forUpdate()),
			rec.CallID, rec.RunID).Scan(jsonScan{&stored})
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("save CDR %q run %q: %w", rec.CallID, rec.RunID, err)
		}
		if len(stored) > 0 {
			var old []records.QueueStay
			if err := json.Unmarshal(stored, &old); err != nil {
				return fmt.Errorf("save CDR %q run %q: stored queues: %w", rec.CallID, rec.RunID, err)
			}
			rec.Queues = keepWrapUps(rec.Queues, old)
		}
		return s.saveCDR(ctx, tx, rec)
	})
}

// keepWrapUps copies the wrap-up and disposition of the stored stays into
// the same stays of a record saved again, where it has none. It returns a
// copy; stays are matched by position, queue, enqueue time and agent.
func keepWrapUps(stays, stored []records.QueueStay) []records.QueueStay {
	out := append([]records.QueueStay(nil), stays...)
	for i := range out {
		st := &out[i]
		if i >= len(stored) || st.WrapUp != 0 || st.Disposition != "" || st.Notes != "" {
			continue
		}
		old := stored[i]
		if old.Queue == st.Queue && old.Agent == st.Agent && old.EnqueuedAt.Equal(st.EnqueuedAt) {
			st.WrapUp, st.Disposition, st.Notes = old.WrapUp, old.Disposition, old.Notes
		}
	}
	return out
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (s *Store) saveCDR(ctx context.Context, db execer, rec records.CDR) error {
	if strings.TrimSpace(rec.CallID) == "" {
		return fmt.Errorf("save CDR: %w: empty call_id", ErrInvalid)
	}
	rec = normCDR(rec)
	path := rec.Path
	if path == nil {
		path = []records.Step{}
	}
	pathJSON, err := json.Marshal(path)
	if err != nil {
		return fmt.Errorf("save CDR %q: path: %w", rec.CallID, err)
	}
	varsJSON, err := jsonOrNil(rec.Vars, len(rec.Vars) == 0)
	if err != nil {
		return fmt.Errorf("save CDR %q: vars: %w", rec.CallID, err)
	}
	recJSON, err := jsonOrNil(rec.Recordings, len(rec.Recordings) == 0)
	if err != nil {
		return fmt.Errorf("save CDR %q: recordings: %w", rec.CallID, err)
	}
	queuesJSON, err := jsonOrNil(rec.Queues, len(rec.Queues) == 0)
	if err != nil {
		return fmt.Errorf("save CDR %q: queues: %w", rec.CallID, err)
	}
	insightsJSON, err := jsonOrNil(rec.Insights, rec.Insights == nil)
	if err != nil {
		return fmt.Errorf("save CDR %q: insights: %w", rec.CallID, err)
	}
	transcriptJSON, err := jsonOrNil(rec.Transcript, len(rec.Transcript) == 0)
	if err != nil {
		return fmt.Errorf("save CDR %q: transcript: %w", rec.CallID, err)
	}
	campaignJSON, err := jsonOrNil(rec.Campaign, rec.Campaign == nil)
	if err != nil {
		return fmt.Errorf("save CDR %q: campaign: %w", rec.CallID, err)
	}
	var campaign any // NULL for calls no campaign made
	if rec.Campaign != nil {
		campaign = rec.Campaign.Campaign
	}
	_, err = db.ExecContext(ctx, s.rebind(`INSERT INTO cdrs (`+cdrColumns+`, transcript, campaign, saved_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (call_id, run_id) DO UPDATE SET
			workflow_id = excluded.workflow_id, flow = excluded.flow, flow_version = excluded.flow_version,
			from_number = excluded.from_number, to_number = excluded.to_number, channel = excluded.channel,
			started_at = excluded.started_at, ended_at = excluded.ended_at, duration_ns = excluded.duration_ns,
			outcome = excluded.outcome, path = excluded.path, vars = excluded.vars,
			recordings = excluded.recordings, queues = excluded.queues,
			insights = COALESCE(excluded.insights, cdrs.insights),
			transcript = COALESCE(excluded.transcript, cdrs.transcript),
			campaign_call = COALESCE(excluded.campaign_call, cdrs.campaign_call),
			campaign = COALESCE(excluded.campaign, cdrs.campaign), saved_at = excluded.saved_at`),
		rec.CallID, rec.RunID, rec.WorkflowID, rec.Flow, rec.FlowVersion, rec.From, rec.To, rec.Channel,
		s.ts(rec.StartedAt), s.ts(rec.EndedAt), int64(rec.Duration), rec.Outcome,
		string(pathJSON), varsJSON, recJSON, queuesJSON, insightsJSON, campaignJSON, transcriptJSON, campaign, s.ts(s.nowUTC()))
	if err != nil {
		return fmt.Errorf("save CDR %q run %q: %w", rec.CallID, rec.RunID, err)
	}
	return nil
}

func jsonOrNil(v any, empty bool) (any, error) {
	if empty {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// jsonScan reads a JSON (SQLite TEXT / PostgreSQL JSONB) column; NULL is nil.
type jsonScan struct{ b *[]byte }

func (j jsonScan) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*j.b = nil
	case string:
		*j.b = []byte(v)
	case []byte:
		*j.b = append([]byte(nil), v...)
	default:
		return fmt.Errorf("store: cannot scan %T as JSON", src)
	}
	return nil
}

// scanCDR scans the cdrColumns of a row.
func scanCDR(row rowScanner) (records.CDR, error) {
	return scanCDRWith(row)
}

// scanCDRWith scans the cdrColumns of a row, then the extra columns.
func scanCDRWith(row rowScanner, extra ...any) (records.CDR, error) {
	var (
		r                                       records.CDR
		dur                                     int64
		path, vars, recording, queues, insights []byte
		campaign                                []byte
	)
	dest := []any{&r.CallID, &r.RunID, &r.WorkflowID, &r.Flow, &r.FlowVersion, &r.From, &r.To, &r.Channel,
		timeScan{&r.StartedAt}, timeScan{&r.EndedAt}, &dur, &r.Outcome,
		jsonScan{&path}, jsonScan{&vars}, jsonScan{&recording}, jsonScan{&queues}, jsonScan{&insights}, jsonScan{&campaign}}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return r, err
	}
	r.Duration = time.Duration(dur)
	if len(insights) > 0 {
		r.Insights = new(records.Insights)
		if err := json.Unmarshal(insights, r.Insights); err != nil {
			return r, fmt.Errorf("CDR %q insights: %w", r.CallID, err)
		}
	}
	if len(campaign) > 0 {
		r.Campaign = new(records.CampaignCall)
		if err := json.Unmarshal(campaign, r.Campaign); err != nil {
			return r, fmt.Errorf("CDR %q campaign: %w", r.CallID, err)
		}
	}
	if len(path) > 0 {
		if err := json.Unmarshal(path, &r.Path); err != nil {
			return r, fmt.Errorf("CDR %q path: %w", r.CallID, err)
		}
		for i := range r.Path { // JSON keeps the zone as an offset; hand back UTC
			r.Path[i].EnteredAt = r.Path[i].EnteredAt.UTC()
			r.Path[i].LeftAt = r.Path[i].LeftAt.UTC()
		}
	}
	if len(vars) > 0 {
		if err := json.Unmarshal(vars, &r.Vars); err != nil {
			return r, fmt.Errorf("CDR %q vars: %w", r.CallID, err)
		}
	}
	if len(recording) > 0 {
		if err := json.Unmarshal(recording, &r.Recordings); err != nil {
			return r, fmt.Errorf("CDR %q recordings: %w", r.CallID, err)
		}
	}
	if len(queues) > 0 {
		if err := json.Unmarshal(queues, &r.Queues); err != nil {
			return r, fmt.Errorf("CDR %q queues: %w", r.CallID, err)
		}
		for i := range r.Queues {
			r.Queues[i].EnqueuedAt = r.Queues[i].EnqueuedAt.UTC()
		}
	}
	return r, nil
}

// CDR returns the record of call callID; when the call has several runs
// (reset or continue-as-new), the one saved last. ErrNotFound if none. It
// carries the call's transcript: a web chat's (SaveChatTranscript) when
// there is one, else the one saved with the record (a voice call's).
// Search results carry no transcript, to keep pages small.
func (s *Store) CDR(ctx context.Context, callID string) (records.CDR, error) {
	var transcript []byte
	r, err := scanCDRWith(s.db.QueryRowContext(ctx, s.rebind(`SELECT `+cdrColumns+`, transcript FROM cdrs WHERE call_id = ?
		ORDER BY saved_at DESC, started_at DESC, run_id DESC LIMIT 1`), callID), jsonScan{&transcript})
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return records.CDR{}, fmt.Errorf("CDR %q: %w", callID, err)
	}
	chat, err := s.ChatTranscript(ctx, callID)
	if err != nil {
		return records.CDR{}, fmt.Errorf("CDR %q: %w", callID, err)
	}
	if len(chat) > 0 {
		r.Transcript = chat
		return r, nil
	}
	if len(transcript) > 0 {
		if err := json.Unmarshal(transcript, &r.Transcript); err != nil {
			return records.CDR{}, fmt.Errorf("CDR %q transcript: %w", callID, err)
		}
		for i := range r.Transcript { // JSON keeps the zone as an offset; hand back UTC
			r.Transcript[i].At = r.Transcript[i].At.UTC()
		}
	}
	return r, nil
}

// pageToken is the keyset position after the last record of a page.
type pageToken struct {
	StartedAt time.Time `json:"t"`
	CallID    string    `json:"c"`
	RunID     string    `json:"r"`
}

func encodeToken(r records.CDR) string {
	b, _ := json.Marshal(pageToken{StartedAt: r.StartedAt, CallID: r.CallID, RunID: r.RunID})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeToken(s string) (pageToken, error) {
	var t pageToken
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &t)
	}
	if err != nil {
		return t, fmt.Errorf("%w: bad page token", ErrInvalid)
	}
	return t, nil
}

// SearchCDRs returns records matching q, newest first (started_at desc, then
// call_id and run_id desc), one page at a time. The returned token fetches
// the next page; it is "" after the last page.
func (s *Store) SearchCDRs(ctx context.Context, q CDRQuery) ([]records.CDR, string, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = defaultCDRLimit
	}
	if limit > maxCDRLimit {
		limit = maxCDRLimit
	}
	var (
		where []string
		args  []any
	)
	add := func(cond string, a ...any) {
		where = append(where, cond)
		args = append(args, a...)
	}
	if q.Flow != "" {
		add("flow = ?", q.Flow)
	}
	if q.From != "" {
		add("from_number = ?", q.From)
	}
	if q.Outcome != "" {
		add("outcome = ?", q.Outcome)
	}
	if q.Disposition != "" {
		add(s.insightsField("disposition")+" = ?", q.Disposition)
	}
	if q.Sentiment != "" {
		add(s.insightsField("sentiment_label")+" = ?", q.Sentiment)
	}
	if q.Queue != "" {
		add(s.queueFilter(), queueNeedle(q.Queue))
	}
	if q.Campaign != "" {
		add("campaign = ?", q.Campaign) // cdrs_campaign_started
	}
	if !q.StartedAfter.IsZero() {
		add("started_at >= ?", s.ts(q.StartedAfter))
	}
	if !q.StartedBefore.IsZero() {
		add("started_at < ?", s.ts(q.StartedBefore))
	}
	if q.PageToken != "" {
		t, err := decodeToken(q.PageToken)
		if err != nil {
			return nil, "", fmt.Errorf("search CDRs: %w", err)
		}
		add("(started_at, call_id, run_id) < (?, ?, ?)", s.ts(t.StartedAt), t.CallID, t.RunID)
	}
	query := `SELECT ` + cdrColumns + ` FROM cdrs`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY started_at DESC, call_id DESC, run_id DESC LIMIT ?`
	args = append(args, limit+1)

	rows, err := s.db.QueryContext(ctx, s.rebind(query), args...)
	if err != nil {
		return nil, "", fmt.Errorf("search CDRs: %w", err)
	}
	out, err := collect(rows, scanCDR)
	if err != nil {
		return nil, "", fmt.Errorf("search CDRs: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = encodeToken(out[limit-1])
	}
	return out, next, nil
}

// queueFilter is the SearchCDRs condition "stayed in the queue": an exact,
// case-sensitive substring test of the queues JSON for queueNeedle. That
// JSON is always written by this package with encoding/json (compact, one
// fixed escaping), so `"queue":"sales"` with both quotes appears only as a
// stay's queue field: never for "sales2" (the closing quote differs) nor
// inside another string value (its quotes would be escaped). instr/strpos
// rather than LIKE: SQLite's LIKE ignores ASCII case and '_', legal in queue
// names, is a LIKE wildcard. A side table would be indexable but must be
// kept in step by every CDR write; this test costs a scan in the
// started_at order SearchCDRs reads anyway, bounded by the other filters.
func (s *Store) queueFilter() string {
	if s.dialect == dialectPostgres {
		return "strpos(queues, ?) > 0"
	}
	return "instr(queues, ?) > 0"
}

// queueNeedle is how a stay in queue appears in the stored queues JSON.
func queueNeedle(queue string) string {
	b, _ := json.Marshal(queue) // a string always marshals
	return `"queue":` + string(b)
}

// insightsField is the SQL text of a top-level string field of the
// insights JSON (NULL without insights); field is one of this package's
// constants, never outside input.
func (s *Store) insightsField(field string) string {
	if s.dialect == dialectPostgres {
		return "(insights->>'" + field + "')"
	}
	return "json_extract(insights, '$." + field + "')"
}

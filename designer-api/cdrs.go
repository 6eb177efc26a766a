package designerapi

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/store"
)

var reflectCallRecord = reflect.TypeFor[records.CDR]()

// CDRFilterParams are the query parameters selecting CDRs, shared by
// search and export.
type CDRFilterParams struct {
	Flow          string    `query:"flow"`
	From          string    `query:"from" doc:"Caller number, exact"`
	Outcome       string    `query:"outcome" doc:"completed, caller_hangup, transferred, max_steps, failed"`
	Disposition   string    `query:"disposition" maxLength:"128" doc:"The insights' disposition, exact (records without insights never match)"`
	Sentiment     string    `query:"sentiment" enum:"positive,neutral,negative" doc:"The insights' sentiment label (records without insights never match)"`
	StartedAfter  time.Time `query:"started_after" doc:"Inclusive, RFC 3339"`
	StartedBefore time.Time `query:"started_before" doc:"Exclusive, RFC 3339"`
}

// query is the store query of the filter.
func (f CDRFilterParams) query() store.CDRQuery {
	return store.CDRQuery{Flow: f.Flow, From: f.From, Outcome: f.Outcome, Disposition: f.Disposition, Sentiment: f.Sentiment,
		StartedAfter: f.StartedAfter, StartedBefore: f.StartedBefore}
}

type searchCDRsInput struct {
	CDRFilterParams
	Limit  int    `query:"limit" minimum:"1" maximum:"1000" default:"50"`
	Cursor string `query:"cursor" doc:"next_cursor of the previous page (same filters)"`
}

type cdrsOutput struct {
	Body struct {
		CDRs       []records.CDR `json:"cdrs" doc:"Newest first, each with its insights (when a summary was made) and its path's AI turns (path[].ai); without transcripts: GET /cdrs/{id} has them"`
		NextCursor string        `json:"next_cursor,omitempty"`
	}
}

type cdrInput struct {
	CallID string `path:"id" pattern:"^[A-Za-z0-9_.:-]{1,128}$"`
}

type cdrOutput struct {
	Body records.CDR
}

type exportInput struct {
	CDRFilterParams
	Format string `query:"format" enum:"csv,json" default:"csv"`
	Max    int    `query:"max" minimum:"1" maximum:"100000" default:"100000" doc:"Most records exported"`
}

// CSVColumns are the columns of a CSV export, in order. The last four are
// the insights' (empty without a summary).
var CSVColumns = []string{"call_id", "run_id", "workflow_id", "flow", "flow_version", "from", "to", "channel",
	"started_at", "ended_at", "duration_ms", "outcome", "path", "recordings",
	"disposition", "sentiment", "sentiment_label", "summary"}

func csvRow(r records.CDR) []string {
	nodes := make([]string, len(r.Path))
	for i, p := range r.Path {
		nodes[i] = p.Node
	}
	row := []string{r.CallID, r.RunID, r.WorkflowID, r.Flow, strconv.Itoa(r.FlowVersion), r.From, r.To, r.Channel,
		r.StartedAt.Format(time.RFC3339Nano), r.EndedAt.Format(time.RFC3339Nano), strconv.FormatInt(r.Duration.Milliseconds(), 10),
		r.Outcome, strings.Join(nodes, ">"), strings.Join(r.Recordings, ";")}
	if in := r.Insights; in != nil {
		return append(row, csvText(in.Disposition), strconv.FormatFloat(in.Sentiment, 'f', -1, 64), in.SentimentLabel, csvText(in.Summary))
	}
	return append(row, "", "", "", "")
}

// csvText quotes a model's free text so that a spreadsheet opening the
// export reads it as text, never as a formula (the caller's words shape it).
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func (s *server) registerCDRs(api huma.API) {
	huma.Register(api, op("search-cdrs", http.MethodGet, "/cdrs", RoleViewer, "CDRs", "Search call records, newest first, one page at a time"),
		requires(s.needStore, s.searchCDRs))
	huma.Register(api, op("get-cdr", http.MethodGet, "/cdrs/{id}", RoleViewer, "CDRs",
		"One call record (the last saved run of the call) with its insights, its transcript (a web chat's messages, "+
			"or what a voice call's intent and llm nodes said and heard) and its path's AI turns (path[].ai)"),
		requires(s.needStore, s.getCDR))

	o := op("export-cdrs", http.MethodGet, "/cdrs/export", RoleViewer, "CDRs",
		"Export matching call records as CSV (columns: "+strings.Join(CSVColumns, ", ")+") or as a JSON array, newest first")
	o.Responses = map[string]*huma.Response{"200": {
		Description: "The records",
		Content: map[string]*huma.MediaType{
			"text/csv":         {Schema: &huma.Schema{Type: huma.TypeString}},
			"application/json": {Schema: &huma.Schema{Type: huma.TypeArray, Items: s.api.OpenAPI().Components.Schemas.Schema(reflectCallRecord, true, "")}},
		},
	}}
	huma.Register(api, o, requires(s.needStore, s.exportCDRs))
}

func (s *server) searchCDRs(ctx context.Context, in *searchCDRsInput) (*cdrsOutput, error) {
	q := in.query()
	q.Limit, q.PageToken = in.Limit, in.Cursor
	recs, next, err := s.cfg.Store.SearchCDRs(ctx, q)
	if err != nil {
		return nil, s.fail("search CDRs", err)
	}
	out := &cdrsOutput{}
	out.Body.CDRs, out.Body.NextCursor = recs, next
	return out, nil
}

func (s *server) getCDR(ctx context.Context, in *cdrInput) (*cdrOutput, error) {
	r, err := s.cfg.Store.CDR(ctx, in.CallID)
	if err != nil {
		return nil, s.fail("get CDR", err)
	}
	return &cdrOutput{Body: r}, nil
}

// exportCDRs reads the first page before answering, so a failing query
// is still an error response; the rest is streamed by writeExport.
func (s *server) exportCDRs(ctx context.Context, in *exportInput) (*huma.StreamResponse, error) {
	q := in.query()
	q.Limit = min(in.Max, 1000)
	first, next, err := s.cfg.Store.SearchCDRs(ctx, q)
	if err != nil {
		return nil, s.fail("export CDRs", err)
	}
	return &huma.StreamResponse{Body: func(hctx huma.Context) {
		s.writeExport(hctx, in, q, first, next)
	}}, nil
}

// writeExport streams pages of records. Errors after the first page can
// only end the stream early; they are logged.
func (s *server) writeExport(hctx huma.Context, in *exportInput, q store.CDRQuery, page []records.CDR, next string) {
	ctx := hctx.Context()
	w := hctx.BodyWriter()
	name := "cdrs-" + time.Now().UTC().Format("20060102T150405Z")
	var (
		cw      *csv.Writer
		written int
	)
	if in.Format == "json" {
		hctx.SetHeader("Content-Type", "application/json")
		hctx.SetHeader("Content-Disposition", `attachment; filename="`+name+`.json"`)
		hctx.SetStatus(http.StatusOK)
		fmt.Fprint(w, "[")
	} else {
		hctx.SetHeader("Content-Type", "text/csv; charset=utf-8")
		hctx.SetHeader("Content-Disposition", `attachment; filename="`+name+`.csv"`)
		hctx.SetStatus(http.StatusOK)
		cw = csv.NewWriter(w)
		_ = cw.Write(CSVColumns)
	}
	for {
		for _, r := range page {
			if written == in.Max {
				break
			}
			if cw != nil {
				_ = cw.Write(csvRow(r))
			} else {
				b, err := json.Marshal(r)
				if err != nil {
					s.log.Error("export CDRs", "call", r.CallID, "error", err)
					continue
				}
				if written > 0 {
					fmt.Fprint(w, ",")
				}
				fmt.Fprint(w, "\n")
				_, _ = w.Write(b)
			}
			written++
		}
		if next == "" || written >= in.Max || ctx.Err() != nil {
			break
		}
		q.PageToken = next
		var err error
		if page, next, err = s.cfg.Store.SearchCDRs(ctx, q); err != nil {
			s.log.Error("export CDRs: stream cut short", "written", written, "error", err)
			break
		}
	}
	if cw != nil {
		cw.Flush()
	} else {
		fmt.Fprint(w, "\n]\n")
	}
}

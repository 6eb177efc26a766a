package designerapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/voxflow/voxflow/store"
)

// Audit actions of erasures: the target is the number masked (MaskNumber),
// so the audit log does not keep what was erased.
const (
	AuditPrivacyErase       = "privacy.erase"
	AuditPrivacyEraseDryRun = "privacy.erase_dry_run"
)

// Eraser erases what voxflow keeps about a caller's number (the store's
// rows, recordings, closed Temporal runs): platform.EraseNumber in
// production, adapted by platform/apiserver.
type Eraser interface {
	Erase(ctx context.Context, number string, dry bool) (ErasureReport, error)
}

// ErasureReport is what an erase removed (or, dry, would remove): the
// report `voxflow privacy erase --json` prints.
type ErasureReport struct {
	Number string `json:"number"`
	DryRun bool   `json:"dry_run"`
	// Counts are per kind: cdrs, call_events, chat_transcripts,
	// recordings, callbacks, campaign_contacts, campaign_attempts,
	// workflow_runs, and dnc_kept (kept, never erased).
	Counts  map[string]int `json:"counts" doc:"Rows, files or runs per kind; dnc_kept counts do-not-call entries kept"`
	CallIDs []string       `json:"call_ids"`
	// Recordings deleted (dry: present); Unreachable: those this
	// instance could not reach, with why.
	Recordings  []string          `json:"recordings,omitempty"`
	Unreachable map[string]string `json:"unreachable_recordings,omitempty" doc:"Recording → why it was not deleted (another media worker's disk)"`
	Running     []string          `json:"running,omitempty" doc:"Workflow IDs of calls in progress: not touched, erase again after they end"`
	// TemporalSkipped: the eraser had no Temporal client; workflow runs
	// were left alone.
	TemporalSkipped bool   `json:"temporal_skipped,omitempty"`
	Note            string `json:"note" doc:"What is never erased (do-not-call entries, backups)"`
}

type eraseInput struct {
	Body struct {
		Number string `json:"number" maxLength:"64" doc:"The caller's phone number (E.164: +15551234567; 1555..., 001555..., tel:+1555... match the same)"`
		DryRun bool   `json:"dry_run,omitempty" doc:"Count what would be erased; remove nothing"`
	}
}

type eraseOutput struct {
	Body ErasureReport
}

func (s *server) registerPrivacy(api huma.API) {
	huma.Register(api, op("privacy-erase", http.MethodPost, "/privacy/erase", RoleAdmin, "Admin",
		"Erase a caller: CDRs, call events, transcripts, recordings, callbacks, campaign rows and closed workflow histories"),
		s.erase)
}

func (s *server) needEraser() error {
	if s.cfg.Eraser == nil {
		return huma.Error503ServiceUnavailable("erasure is not available on this server")
	}
	return nil
}

func (s *server) erase(ctx context.Context, in *eraseInput) (*eraseOutput, error) {
	// Validated here rather than by a schema pattern, for a message that
	// names the expected form; before needEraser, like schema checks.
	if !isPhoneNumber(in.Body.Number) {
		return nil, huma.Error422UnprocessableEntity("number must be a phone number such as +15551234567",
			&huma.ErrorDetail{Message: "not a phone number", Location: "body.number", Value: in.Body.Number})
	}
	if err := s.needEraser(); err != nil {
		return nil, err
	}
	r, err := s.cfg.Eraser.Erase(ctx, strings.TrimSpace(in.Body.Number), in.Body.DryRun)
	if r.Counts != nil { // a partial erase (store done, Temporal not) is audited too
		action := AuditPrivacyErase
		if r.DryRun {
			action = AuditPrivacyEraseDryRun
		}
		s.audit(ctx, action, MaskNumber(in.Body.Number), ErasureAuditDetails(r))
	}
	if err != nil {
		return nil, s.fail("erase number", err)
	}
	r.Number = strings.TrimSpace(in.Body.Number)
	r.Note = ErasureNote(r)
	return &eraseOutput{Body: r}, nil
}

// ErasureNote says what an erase never touches.
func ErasureNote(r ErasureReport) string {
	n := "not erased: do-not-call entries (keeping a number off the dialer is a legal duty), " +
		"database and Temporal backups, and logs already shipped elsewhere"
	if k := r.Counts[store.KindDNCKept]; k > 0 {
		n = fmt.Sprintf("kept: %d do-not-call entries; %s", k, n)
	}
	if r.TemporalSkipped {
		n += "; workflow histories were left alone (no Temporal connection)"
	}
	return n
}

// ErasureAuditDetails are an erase's audit details: counts only, never the
// number, call IDs or recording paths.
func ErasureAuditDetails(r ErasureReport) map[string]any {
	return map[string]any{"dry_run": r.DryRun, "counts": r.Counts, "calls": len(r.CallIDs),
		"running": len(r.Running), "unreachable_recordings": len(r.Unreachable), "temporal_skipped": r.TemporalSkipped}
}

// isPhoneNumber accepts a number as trunks and people write it: digits
// with an optional leading + (or tel:+), spaces, dots, dashes, brackets.
func isPhoneNumber(s string) bool {
	s = strings.TrimPrefix(strings.TrimSpace(s), "tel:")
	s = strings.TrimPrefix(s, "+")
	for _, r := range s {
		if (r < '0' || r > '9') && !strings.ContainsRune(" .-()", r) {
			return false
		}
	}
	n := len(numberDigits(s))
	return n >= 3 && n <= 20
}

func numberDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// MaskNumber hides a phone number's middle for the audit log:
// +15551234567 → +1555***4567. Short numbers keep less, at least three
// digits are always hidden.
func MaskNumber(number string) string {
	d := numberDigits(number)
	tail := 0
	switch {
	case len(d) >= 10:
		tail = 4
	case len(d) >= 6:
		tail = 2
	}
	head := max(0, min(4, len(d)-tail-3))
	prefix := ""
	if strings.HasPrefix(strings.TrimPrefix(strings.TrimSpace(number), "tel:"), "+") {
		prefix = "+"
	}
	return prefix + d[:head] + "***" + d[len(d)-tail:]
}

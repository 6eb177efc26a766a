package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Erase kinds besides the retention ones (KindCDRs, ...).
const (
	KindContacts = "campaign_contacts"
	// KindDNCKept counts the do-not-call entries of the number: never
	// erased, since keeping a number off the dialer is a legal duty.
	KindDNCKept = "dnc_kept"
)

// Erasure is what EraseNumber removed (or, dry, would remove).
type Erasure struct {
	// Counts are rows per kind (KindCDRs, KindCallEvents, ...,
	// KindContacts), and KindDNCKept: DNC rows left in place.
	Counts map[string]int
	// CallIDs are the calls whose records matched, sorted; WorkflowIDs
	// their workflows (CDR workflow IDs), sorted.
	CallIDs     []string
	WorkflowIDs []string
	// Recordings are the recording references of the erased CDRs: files
	// the store does not hold, for the caller to delete.
	Recordings []string
}

// NumberForms are the ways number may be written in the store: as given,
// E.164 with and without "+", with the 00 / 011 international prefixes,
// as a tel: URI, and a NANP number (+1 and 10 digits) without its country
// code. CDRs keep the SIP From/To user part as the trunk sent it, so an
// erase must match every form.
func NumberForms(number string) []string {
	number = strings.TrimSpace(number)
	var d strings.Builder
	for _, r := range number {
		if r >= '0' && r <= '9' {
			d.WriteRune(r)
		}
	}
	digits := d.String()
	forms := []string{number}
	if digits != "" {
		forms = append(forms, digits, "+"+digits, "00"+digits, "011"+digits, "tel:+"+digits)
		if len(digits) == 11 && digits[0] == '1' {
			forms = append(forms, digits[1:])
		}
	}
	slices.Sort(forms)
	return slices.Compact(forms)
}

// EraseNumber removes what the store holds about the caller with number
// (matched in every NumberForms form): CDRs where it is the caller or the
// callee, those calls' events and chat transcripts, callbacks to it or
// asked by those calls, its campaign contacts and dial attempts. DNC
// entries stay (counted as KindDNCKept). With dry it only counts. It all
// happens in one transaction: an erase is all or nothing.
func (s *Store) EraseNumber(ctx context.Context, number string, dry bool) (Erasure, error) {
	forms := NumberForms(number)
	if len(forms) == 0 || strings.TrimSpace(number) == "" {
		return Erasure{}, fmt.Errorf("erase number: %w: empty number", ErrInvalid)
	}
	var e Erasure
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if e, err = s.eraseNumber(ctx, tx, forms, dry); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return Erasure{}, fmt.Errorf("erase number %q: %w", number, err)
	}
	return e, nil
}

func (s *Store) eraseNumber(ctx context.Context, tx *sql.Tx, forms []string, dry bool) (Erasure, error) {
	e := Erasure{Counts: map[string]int{}}
	in, formArgs := placeholders(forms)
	if err := s.matchCDRs(ctx, tx, &e, in, formArgs); err != nil {
		return e, err
	}
	// Dial attempts name their call: add those that left no CDR.
	attemptCalls, err := queryStrings(ctx, tx, s.rebind(`SELECT DISTINCT call_id FROM campaign_attempts WHERE number IN (`+in+`)`), formArgs...)
	if err != nil {
		return e, fmt.Errorf("attempts: %w", err)
	}
	e.CallIDs = sortedUnique(append(e.CallIDs, attemptCalls...))
	byNumber := []struct{ kind, table string }{
		{KindCDRs, "cdrs"}, {KindContacts, "campaign_contacts"}, {KindAttempts, "campaign_attempts"},
	}
	for _, t := range byNumber {
		cond := "number IN (" + in + ")"
		args := formArgs
		if t.table == "cdrs" {
			cond, args = "from_number IN ("+in+") OR to_number IN ("+in+")", append(slices.Clone(formArgs), formArgs...)
		}
		if err := s.eraseWhere(ctx, tx, &e, t.kind, t.table, cond, dry, args...); err != nil {
			return e, err
		}
	}
	if err := s.eraseByCalls(ctx, tx, &e, in, formArgs, dry); err != nil {
		return e, err
	}
	var kept int
	if err := tx.QueryRowContext(ctx, s.rebind(`SELECT COUNT(*) FROM dnc WHERE number IN (`+in+`)`), formArgs...).Scan(&kept); err != nil {
		return e, fmt.Errorf("dnc: %w", err)
	}
	e.Counts[KindDNCKept] = kept
	return e, nil
}

// matchCDRs fills e's call IDs, workflow IDs and recordings from the CDRs
// of the number.
func (s *Store) matchCDRs(ctx context.Context, tx *sql.Tx, e *Erasure, in string, formArgs []any) error {
	rows, err := tx.QueryContext(ctx, s.rebind(`SELECT call_id, workflow_id, recordings FROM cdrs
		WHERE from_number IN (`+in+`) OR to_number IN (`+in+`)`), append(slices.Clone(formArgs), formArgs...)...)
	if err != nil {
		return fmt.Errorf("cdrs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var callID, workflowID string
		var recs []byte
		if err := rows.Scan(&callID, &workflowID, jsonScan{&recs}); err != nil {
			return fmt.Errorf("cdrs: %w", err)
		}
		e.CallIDs = append(e.CallIDs, callID)
		e.WorkflowIDs = append(e.WorkflowIDs, workflowID)
		if len(recs) > 0 {
			var paths []string
			if err := json.Unmarshal(recs, &paths); err != nil {
				return fmt.Errorf("cdr %q recordings: %w", callID, err)
			}
			e.Recordings = append(e.Recordings, paths...)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("cdrs: %w", err)
	}
	e.CallIDs, e.WorkflowIDs, e.Recordings = sortedUnique(e.CallIDs), sortedUnique(e.WorkflowIDs), sortedUnique(e.Recordings)
	return nil
}

// eraseByCalls erases the rows kept by call ID (events, transcripts) and
// the callbacks to the number or asked by its calls, in chunks of call IDs.
func (s *Store) eraseByCalls(ctx context.Context, tx *sql.Tx, e *Erasure, in string, formArgs []any, dry bool) error {
	if err := s.eraseWhere(ctx, tx, e, KindCallbacks, "callbacks", "number IN ("+in+")", dry, formArgs...); err != nil {
		return err
	}
	const chunk = 200
	for ids := range slices.Chunk(e.CallIDs, chunk) {
		cin, idArgs := placeholders(ids)
		for _, t := range []struct{ kind, table string }{
			{KindCallEvents, "call_events"}, {KindChatTranscripts, "chat_transcripts"}, {KindCallbacks, "callbacks"},
		} {
			cond, args := "call_id IN ("+cin+")", idArgs
			if t.table == "callbacks" { // those to the number are counted above
				cond += " AND number NOT IN (" + in + ")"
				args = append(slices.Clone(idArgs), formArgs...)
			}
			if err := s.eraseWhere(ctx, tx, e, t.kind, t.table, cond, dry, args...); err != nil {
				return err
			}
		}
	}
	return nil
}

// eraseWhere deletes (or, dry, counts) table's rows matching cond and
// adds their number to e.Counts[kind].
func (s *Store) eraseWhere(ctx context.Context, tx *sql.Tx, e *Erasure, kind, table, cond string, dry bool, args ...any) error {
	if dry {
		var n int
		if err := tx.QueryRowContext(ctx, s.rebind(`SELECT COUNT(*) FROM `+table+` WHERE `+cond), args...).Scan(&n); err != nil {
			return fmt.Errorf("count %s: %w", kind, err)
		}
		e.Counts[kind] += n
		return nil
	}
	res, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM `+table+` WHERE `+cond), args...)
	if err != nil {
		return fmt.Errorf("delete %s: %w", kind, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("delete %s: %w", kind, err)
	}
	e.Counts[kind] += int(n)
	return nil
}

// placeholders is "?, ?, ..." for vs, and vs as query arguments.
func placeholders(vs []string) (string, []any) {
	args := make([]any, len(vs))
	for i, v := range vs {
		args[i] = v
	}
	return strings.TrimSuffix(strings.Repeat("?, ", len(vs)), ", "), args
}

func queryStrings(ctx context.Context, tx *sql.Tx, q string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func sortedUnique(vs []string) []string {
	vs = slices.DeleteFunc(vs, func(v string) bool { return v == "" })
	slices.Sort(vs)
	return slices.Compact(vs)
}

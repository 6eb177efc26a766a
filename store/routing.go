package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // callback time zones resolve the same on every machine, as flows' do

	"github.com/voxflow/voxflow/activities/records"
)

// ErrInUse: the queue to delete is still an overflow target of another
// queue; nothing was deleted.
var ErrInUse = errors.New("in use")

// Limits of an agent's routing profile.
const (
	MinSkillLevel    = 1
	MaxSkillLevel    = 10
	MaxAgentCapacity = 100
)

// AgentProfile is how calls are routed to a SIP agent: the agent's skills,
// the queues the agent serves and how many calls the agent takes at once.
type AgentProfile struct {
	Username string         // the SIP account
	Skills   map[string]int // skill name -> level, MinSkillLevel..MaxSkillLevel
	Queues   []string       // queue names, in the agent's order
	Capacity int            // calls at once, 1..MaxAgentCapacity
	// UpdatedAt is set by the store when the profile is written.
	UpdatedAt time.Time
}

// queueNameRule is what a queue name may be: an agent name's rule.
const queueNameRule = "use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"

func checkQueueName(name string) error {
	if !sipUsername.MatchString(name) {
		return fmt.Errorf("%w: queue name %q: %s", ErrInvalid, name, queueNameRule)
	}
	return nil
}

// trimmedName reports a name that is non-empty without surrounding spaces.
func trimmedName(s string) bool {
	return s != "" && s == strings.TrimSpace(s)
}

func checkAgentProfile(p AgentProfile) error {
	if p.Capacity < 1 || p.Capacity > MaxAgentCapacity {
		return fmt.Errorf("capacity %d: %w: must be 1 to %d", p.Capacity, ErrInvalid, MaxAgentCapacity)
	}
	skills := make([]string, 0, len(p.Skills))
	for name := range p.Skills {
		skills = append(skills, name)
	}
	sort.Strings(skills) // report the first bad skill the same way every time
	for _, name := range skills {
		if !trimmedName(name) {
			return fmt.Errorf("skill %q: %w: name must be non-empty without surrounding spaces", name, ErrInvalid)
		}
		if lvl := p.Skills[name]; lvl < MinSkillLevel || lvl > MaxSkillLevel {
			return fmt.Errorf("skill %q level %d: %w: must be %d to %d", name, lvl, ErrInvalid, MinSkillLevel, MaxSkillLevel)
		}
	}
	seen := map[string]bool{}
	for i, q := range p.Queues {
		if err := checkQueueName(q); err != nil {
			return fmt.Errorf("queues[%d]: %w", i, err)
		}
		if seen[q] {
			return fmt.Errorf("queues[%d] %q: %w: listed twice", i, q, ErrInvalid)
		}
		seen[q] = true
	}
	return nil
}

// SetAgentProfile writes the routing profile of an agent, replacing any
// earlier one. The agent's SIP account must exist, else ErrNotFound; a bad
// capacity, skill name or level, or queue name is ErrInvalid. The queues
// need not exist yet. Removing the SIP account removes the profile.
func (s *Store) SetAgentProfile(ctx context.Context, p AgentProfile) error {
	if err := checkSIPUsername(p.Username); err != nil {
		return fmt.Errorf("set agent profile: %w", err)
	}
	if err := checkAgentProfile(p); err != nil {
		return fmt.Errorf("set agent profile %q: %w", p.Username, err)
	}
	skills, queues := p.Skills, p.Queues
	if skills == nil {
		skills = map[string]int{}
	}
	if queues == nil {
		queues = []string{}
	}
	skillsJSON, err := json.Marshal(skills) // keys sorted: same profile, same text
	if err != nil {
		return fmt.Errorf("set agent profile %q: skills: %w", p.Username, err)
	}
	queuesJSON, err := json.Marshal(queues)
	if err != nil {
		return fmt.Errorf("set agent profile %q: queues: %w", p.Username, err)
	}
	notFound := fmt.Errorf("SIP account %q: %w", p.Username, ErrNotFound)
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.rebind(`SELECT COUNT(*) FROM sip_accounts WHERE username = ?`), p.Username).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return notFound
		}
		_, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO agent_profiles (username, skills, queues, capacity, updated_at)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (username) DO UPDATE SET skills = excluded.skills, queues = excluded.queues,
				capacity = excluded.capacity, updated_at = excluded.updated_at`),
			p.Username, string(skillsJSON), string(queuesJSON), p.Capacity, s.nowUTC().UnixMicro())
		if isForeignKeyViolation(err) { // the account was removed meanwhile
			return notFound
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("set agent profile %q: %w", p.Username, err)
	}
	return nil
}

const agentProfileCols = `username, skills, queues, capacity, updated_at`

// scanAgentProfile reads a profile; Skills and Queues are never nil.
func scanAgentProfile(row rowScanner) (AgentProfile, error) {
	var (
		p              AgentProfile
		skills, queues []byte
		updated        int64
	)
	if err := row.Scan(&p.Username, jsonScan{&skills}, jsonScan{&queues}, &p.Capacity, &updated); err != nil {
		return AgentProfile{}, err
	}
	p.Skills, p.Queues = map[string]int{}, []string{}
	if err := json.Unmarshal(skills, &p.Skills); err != nil {
		return AgentProfile{}, fmt.Errorf("agent profile %q skills: %w", p.Username, err)
	}
	if err := json.Unmarshal(queues, &p.Queues); err != nil {
		return AgentProfile{}, fmt.Errorf("agent profile %q queues: %w", p.Username, err)
	}
	p.UpdatedAt = time.UnixMicro(updated).UTC()
	return p, nil
}

// AgentProfile returns the routing profile of an agent, or ErrNotFound when
// the agent has none (whether or not the SIP account exists).
func (s *Store) AgentProfile(ctx context.Context, username string) (AgentProfile, error) {
	p, err := scanAgentProfile(s.db.QueryRowContext(ctx, s.rebind(`SELECT `+agentProfileCols+` FROM agent_profiles WHERE username = ?`), username))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return AgentProfile{}, fmt.Errorf("agent profile %q: %w", username, err)
	}
	return p, nil
}

// AgentProfiles lists every profile by username.
func (s *Store) AgentProfiles(ctx context.Context) ([]AgentProfile, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+agentProfileCols+` FROM agent_profiles ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("list agent profiles: %w", err)
	}
	out, err := collect(rows, scanAgentProfile)
	if err != nil {
		return nil, fmt.Errorf("list agent profiles: %w", err)
	}
	return out, nil
}

// Queue defaults: Queue.WithDefaults puts them in place of zero fields.
const (
	DefaultHoldFlow      = "queue-hold"
	DefaultAnnounceEvery = 30 * time.Second
	DefaultMaxWait       = 10 * time.Minute
	DefaultRingTimeout   = 20 * time.Second
	DefaultWrapUp        = 30 * time.Second
	DefaultSLThreshold   = 20 * time.Second
	DefaultMaxWaiting    = 0 // unlimited
)

// Queue is a call queue. Zero fields mean the default (see WithDefaults):
// the store keeps them zero, so a changed default reaches every queue that
// did not set its own.
type Queue struct {
	Name string
	// HoldFlow is the flow callers hear while they wait.
	HoldFlow string
	// AnnounceEvery: how often the caller hears the position / wait.
	AnnounceEvery time.Duration
	// MaxWait: how long a caller waits before leaving with a timeout.
	MaxWait time.Duration
	// RingTimeout: how long one agent rings before the next is tried.
	RingTimeout time.Duration
	// WrapUp: the agent's after-call time before the next call.
	WrapUp time.Duration
	// SLThreshold: calls answered within it count toward the service level.
	SLThreshold time.Duration
	// MaxWaiting: callers waiting at most; more are turned away (0: no limit).
	MaxWaiting int
	// Overflow steps, by increasing After.
	Overflow  []QueueOverflow
	CreatedAt time.Time // set by the store when the queue is created
	UpdatedAt time.Time // set by the store when the queue is written
}

// QueueOverflow widens the search for an agent once a caller has waited
// After: it requires Skills instead (ClearSkills: no skills at all), and/or
// moves the caller to another Queue.
type QueueOverflow struct {
	After       time.Duration `json:"after"`
	Skills      []string      `json:"skills,omitempty"`
	ClearSkills bool          `json:"clear_skills,omitempty"`
	Queue       string        `json:"queue,omitempty"`
}

// WithDefaults returns q with each zero setting replaced by its default.
func (q Queue) WithDefaults() Queue {
	if q.HoldFlow == "" {
		q.HoldFlow = DefaultHoldFlow
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{
		{&q.AnnounceEvery, DefaultAnnounceEvery}, {&q.MaxWait, DefaultMaxWait}, {&q.RingTimeout, DefaultRingTimeout},
		{&q.WrapUp, DefaultWrapUp}, {&q.SLThreshold, DefaultSLThreshold},
	} {
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if q.MaxWaiting == 0 {
		q.MaxWaiting = DefaultMaxWaiting
	}
	return q
}

// queueConfig is the JSON of a queue's settings (queues.config).
type queueConfig struct {
	HoldFlow      string          `json:"hold_flow,omitempty"`
	AnnounceEvery time.Duration   `json:"announce_every,omitempty"`
	MaxWait       time.Duration   `json:"max_wait,omitempty"`
	RingTimeout   time.Duration   `json:"ring_timeout,omitempty"`
	WrapUp        time.Duration   `json:"wrap_up,omitempty"`
	SLThreshold   time.Duration   `json:"sl_threshold,omitempty"`
	MaxWaiting    int             `json:"max_waiting,omitempty"`
	Overflow      []QueueOverflow `json:"overflow,omitempty"`
}

// checkQueue validates everything but the name and whether overflow queues
// exist. Errors name the field as in the queue's JSON.
func checkQueue(q Queue) error {
	if q.HoldFlow != "" && !trimmedName(q.HoldFlow) {
		return fmt.Errorf("hold_flow %q: %w: must not have surrounding spaces", q.HoldFlow, ErrInvalid)
	}
	for _, d := range []struct {
		field string
		v     time.Duration
	}{
		{"announce_every", q.AnnounceEvery}, {"max_wait", q.MaxWait}, {"ring_timeout", q.RingTimeout},
		{"wrap_up", q.WrapUp}, {"sl_threshold", q.SLThreshold},
	} {
		if d.v < 0 {
			return fmt.Errorf("%s %v: %w: must not be negative", d.field, d.v, ErrInvalid)
		}
	}
	if q.MaxWaiting < 0 {
		return fmt.Errorf("max_waiting %d: %w: must not be negative", q.MaxWaiting, ErrInvalid)
	}
	for i, o := range q.Overflow {
		if err := checkOverflow(q, i, o); err != nil {
			return err
		}
	}
	return nil
}

func checkOverflow(q Queue, i int, o QueueOverflow) error {
	switch {
	case o.After <= 0:
		return fmt.Errorf("overflow[%d].after %v: %w: must be positive", i, o.After, ErrInvalid)
	case i > 0 && o.After <= q.Overflow[i-1].After:
		return fmt.Errorf("overflow[%d].after %v: %w: must be later than overflow[%d].after %v",
			i, o.After, ErrInvalid, i-1, q.Overflow[i-1].After)
	case len(o.Skills) == 0 && !o.ClearSkills && o.Queue == "":
		return fmt.Errorf("overflow[%d]: %w: sets no skills, clear_skills or queue", i, ErrInvalid)
	}
	for j, sk := range o.Skills {
		if !trimmedName(sk) {
			return fmt.Errorf("overflow[%d].skills[%d] %q: %w: must be non-empty without surrounding spaces", i, j, sk, ErrInvalid)
		}
	}
	if o.Queue != "" && !sipUsername.MatchString(o.Queue) {
		return fmt.Errorf("overflow[%d].queue %q: %w: %s", i, o.Queue, ErrInvalid, queueNameRule)
	}
	if o.Queue == q.Name {
		return fmt.Errorf("overflow[%d].queue %q: %w: a queue cannot overflow to itself", i, o.Queue, ErrInvalid)
	}
	return nil
}

// PutQueue creates or replaces the queue named q.Name. Settings are
// validated (ErrInvalid naming the field) and each overflow queue must
// exist (ErrNotFound naming it). CreatedAt is kept from the first write
// (a zero CreatedAt then means now); UpdatedAt is now.
func (s *Store) PutQueue(ctx context.Context, q Queue) error {
	if err := checkQueueName(q.Name); err != nil {
		return fmt.Errorf("put queue: %w", err)
	}
	if err := checkQueue(q); err != nil {
		return fmt.Errorf("put queue %q: %w", q.Name, err)
	}
	cfg, err := json.Marshal(queueConfig{
		HoldFlow: q.HoldFlow, AnnounceEvery: q.AnnounceEvery, MaxWait: q.MaxWait, RingTimeout: q.RingTimeout,
		WrapUp: q.WrapUp, SLThreshold: q.SLThreshold, MaxWaiting: q.MaxWaiting, Overflow: q.Overflow,
	})
	if err != nil {
		return fmt.Errorf("put queue %q: %w", q.Name, err)
	}
	now := s.nowUTC()
	created := now
	if !q.CreatedAt.IsZero() {
		created = normTime(q.CreatedAt)
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		for i, o := range q.Overflow {
			if o.Queue == "" {
				continue
			}
			// Locked (PostgreSQL) so that DeleteQueue of the target waits
			// for this write and then sees the reference.
			var found string
			err := tx.QueryRowContext(ctx, s.rebind(`SELECT name FROM queues WHERE name = ?`+s.forShare()), o.Queue).Scan(&found)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("overflow[%d].queue %q: %w", i, o.Queue, ErrNotFound)
			}
			if err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO queues (name, config, created_at, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at`),
			q.Name, string(cfg), created.UnixMicro(), now.UnixMicro())
		return err
	})
	if err != nil {
		return fmt.Errorf("put queue %q: %w", q.Name, err)
	}
	return nil
}

// forShare is the row-locking suffix of a SELECT that must keep the row
// from being deleted until the transaction ends (PostgreSQL; SQLite's
// transactions hold the whole database).
func (s *Store) forShare() string {
	if s.dialect == dialectPostgres {
		return " FOR SHARE"
	}
	return ""
}

const queueCols = `name, config, created_at, updated_at`

func scanQueue(row rowScanner) (Queue, error) {
	var (
		q                Queue
		cfg              []byte
		created, updated sql.NullInt64
	)
	if err := row.Scan(&q.Name, jsonScan{&cfg}, &created, &updated); err != nil {
		return Queue{}, err
	}
	var c queueConfig
	if err := json.Unmarshal(cfg, &c); err != nil {
		return Queue{}, fmt.Errorf("queue %q config: %w", q.Name, err)
	}
	q.HoldFlow, q.AnnounceEvery, q.MaxWait, q.RingTimeout = c.HoldFlow, c.AnnounceEvery, c.MaxWait, c.RingTimeout
	q.WrapUp, q.SLThreshold, q.MaxWaiting, q.Overflow = c.WrapUp, c.SLThreshold, c.MaxWaiting, c.Overflow
	if created.Valid {
		q.CreatedAt = time.UnixMicro(created.Int64).UTC()
	}
	if updated.Valid {
		q.UpdatedAt = time.UnixMicro(updated.Int64).UTC()
	}
	return q, nil
}

// Queue returns the queue named name as stored (zero settings are not
// defaulted: see WithDefaults), or ErrNotFound.
func (s *Store) Queue(ctx context.Context, name string) (Queue, error) {
	q, err := scanQueue(s.db.QueryRowContext(ctx, s.rebind(`SELECT `+queueCols+` FROM queues WHERE name = ?`), name))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return Queue{}, fmt.Errorf("queue %q: %w", name, err)
	}
	return q, nil
}

// Queues lists every queue by name, as stored.
func (s *Store) Queues(ctx context.Context) ([]Queue, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+queueCols+` FROM queues ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list queues: %w", err)
	}
	out, err := collect(rows, scanQueue)
	if err != nil {
		return nil, fmt.Errorf("list queues: %w", err)
	}
	return out, nil
}

// DeleteQueue deletes the queue named name: ErrNotFound if there is none,
// ErrInUse (naming the first such queue) while another queue overflows to
// it. Agent profiles listing the queue and its callbacks are left alone.
func (s *Store) DeleteQueue(ctx context.Context, name string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var found string
		err := tx.QueryRowContext(ctx, s.rebind(`SELECT name FROM queues WHERE name = ?`+s.forUpdate()), name).Scan(&found)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, s.rebind(`SELECT `+queueCols+` FROM queues WHERE name <> ? ORDER BY name`), name)
		if err != nil {
			return err
		}
		others, err := collect(rows, scanQueue)
		if err != nil {
			return err
		}
		for _, o := range others {
			for i, step := range o.Overflow {
				if step.Queue == name {
					return fmt.Errorf("%w: queue %q overflow[%d] goes to it", ErrInUse, o.Name, i)
				}
			}
		}
		_, err = tx.ExecContext(ctx, s.rebind(`DELETE FROM queues WHERE name = ?`), name)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete queue %q: %w", name, err)
	}
	return nil
}

// Callback states (Callback.State).
const (
	CallbackScheduled = "scheduled" // waiting for DueAt
	CallbackWaiting   = "waiting"   // due, queued for an agent
	CallbackDialing   = "dialing"   // an agent took it; calling the number
	CallbackDone      = "done"
	CallbackFailed    = "failed"
	CallbackCancelled = "cancelled"
)

var callbackStates = []string{CallbackScheduled, CallbackWaiting, CallbackDialing, CallbackDone, CallbackFailed, CallbackCancelled}

// Callback is a call back a caller asked for instead of waiting in Queue.
type Callback struct {
	ID       string
	Queue    string
	Number   string // the number to call
	CallID   string // the call that asked
	Timezone string // the caller's IANA time zone, "" if unknown
	State    string // one of the CallbackX constants
	Outcome  string
	Agent    string // who took it
	DueAt    time.Time
	// CreatedAt is kept from the first write (zero then means now);
	// UpdatedAt is as given, zero meaning now.
	CreatedAt time.Time
	UpdatedAt time.Time
	Attempts  int
}

// CallbackQuery filters Callbacks. Zero fields do not filter.
type CallbackQuery struct {
	State string
	Queue string
	// DueBefore keeps callbacks due strictly before it.
	DueBefore time.Time
	// Limit: default 100, at most 1000 (larger is clamped).
	Limit int
}

const (
	defaultCallbackLimit = 100
	maxCallbackLimit     = 1000
)

func checkCallback(cb Callback) error {
	switch {
	case !sipUsername.MatchString(cb.Queue):
		return fmt.Errorf("queue %q: %w: %s", cb.Queue, ErrInvalid, queueNameRule)
	case strings.TrimSpace(cb.Number) == "":
		return fmt.Errorf("number %q: %w: must not be empty", cb.Number, ErrInvalid)
	case strings.TrimSpace(cb.CallID) == "":
		return fmt.Errorf("call_id %q: %w: must not be empty", cb.CallID, ErrInvalid)
	case cb.DueAt.IsZero():
		return fmt.Errorf("due_at: %w: must be set", ErrInvalid)
	case cb.Attempts < 0:
		return fmt.Errorf("attempts %d: %w: must not be negative", cb.Attempts, ErrInvalid)
	}
	if cb.Timezone != "" {
		if _, err := time.LoadLocation(cb.Timezone); err != nil || cb.Timezone == "Local" {
			return fmt.Errorf("timezone %q: %w: unknown time zone", cb.Timezone, ErrInvalid)
		}
	}
	for _, st := range callbackStates {
		if cb.State == st {
			return nil
		}
	}
	return fmt.Errorf("state %q: %w: must be one of %s", cb.State, ErrInvalid, strings.Join(callbackStates, ", "))
}

// PutCallback creates or replaces the callback cb.ID. The callback workflow
// writes each change of state with it; writing the same callback again (a
// retried activity) changes nothing but a zero UpdatedAt. The queue need
// not exist. Bad fields are ErrInvalid, naming the field.
func (s *Store) PutCallback(ctx context.Context, cb Callback) error {
	if !trimmedName(cb.ID) {
		return fmt.Errorf("put callback: %w: id %q must be non-empty without surrounding spaces", ErrInvalid, cb.ID)
	}
	if err := checkCallback(cb); err != nil {
		return fmt.Errorf("put callback %q: %w", cb.ID, err)
	}
	now := s.nowUTC()
	if cb.CreatedAt.IsZero() {
		cb.CreatedAt = now
	}
	if cb.UpdatedAt.IsZero() {
		cb.UpdatedAt = now
	}
	_, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO callbacks (`+callbackCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET queue = excluded.queue, number = excluded.number, call_id = excluded.call_id,
			due_at = excluded.due_at, timezone = excluded.timezone, state = excluded.state, attempts = excluded.attempts,
			outcome = excluded.outcome, agent = excluded.agent, updated_at = excluded.updated_at`),
		cb.ID, cb.Queue, cb.Number, cb.CallID, cb.DueAt.UTC().UnixMicro(), cb.Timezone, cb.State, cb.Attempts,
		cb.Outcome, cb.Agent, cb.CreatedAt.UTC().UnixMicro(), cb.UpdatedAt.UTC().UnixMicro())
	if err != nil {
		return fmt.Errorf("put callback %q: %w", cb.ID, err)
	}
	return nil
}

const callbackCols = `id, queue, number, call_id, due_at, timezone, state, attempts, outcome, agent, created_at, updated_at`

func scanCallback(row rowScanner) (Callback, error) {
	var (
		cb                    Callback
		due, created, updated int64
	)
	err := row.Scan(&cb.ID, &cb.Queue, &cb.Number, &cb.CallID, &due, &cb.Timezone, &cb.State, &cb.Attempts,
		&cb.Outcome, &cb.Agent, &created, &updated)
	if err != nil {
		return Callback{}, err
	}
	cb.DueAt = time.UnixMicro(due).UTC()
	cb.CreatedAt = time.UnixMicro(created).UTC()
	cb.UpdatedAt = time.UnixMicro(updated).UTC()
	return cb, nil
}

// Callback returns the callback id, or ErrNotFound.
func (s *Store) Callback(ctx context.Context, id string) (Callback, error) {
	cb, err := scanCallback(s.db.QueryRowContext(ctx, s.rebind(`SELECT `+callbackCols+` FROM callbacks WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return Callback{}, fmt.Errorf("callback %q: %w", id, err)
	}
	return cb, nil
}

// Callbacks returns the callbacks matching q, soonest due first (then by id).
func (s *Store) Callbacks(ctx context.Context, q CallbackQuery) ([]Callback, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = defaultCallbackLimit
	}
	if limit > maxCallbackLimit {
		limit = maxCallbackLimit
	}
	var (
		where []string
		args  []any
	)
	if q.State != "" {
		where, args = append(where, "state = ?"), append(args, q.State)
	}
	if q.Queue != "" {
		where, args = append(where, "queue = ?"), append(args, q.Queue)
	}
	if !q.DueBefore.IsZero() {
		where, args = append(where, "due_at < ?"), append(args, q.DueBefore.UTC().UnixMicro())
	}
	query := `SELECT ` + callbackCols + ` FROM callbacks`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY due_at, id LIMIT ?`
	rows, err := s.db.QueryContext(ctx, s.rebind(query), append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list callbacks: %w", err)
	}
	out, err := collect(rows, scanCallback)
	if err != nil {
		return nil, fmt.Errorf("list callbacks: %w", err)
	}
	return out, nil
}

// SetCDRWrapUp records an agent's wrap-up time and disposition on the
// call's queue stay the agent answered (the one enqueued last, when the
// agent answered several), in the record of the call's newest run (the one
// CDR returns). ErrNotFound when the call has no record or that record no
// stay answered by agent. Saving the run's record again keeps them (see
// SaveCDR).
func (s *Store) SetCDRWrapUp(ctx context.Context, callID, agent string, wrapUp time.Duration, disposition, notes string) error {
	switch {
	case strings.TrimSpace(callID) == "" || strings.TrimSpace(agent) == "":
		return fmt.Errorf("set CDR wrap-up of call %q by agent %q: %w: empty call or agent", callID, agent, ErrInvalid)
	case wrapUp < 0:
		return fmt.Errorf("set CDR wrap-up of call %q by agent %q: wrap_up %v: %w: must not be negative", callID, agent, wrapUp, ErrInvalid)
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var (
			runID string
			raw   []byte
		)
		err := tx.QueryRowContext(ctx, s.rebind(`SELECT run_id, queues FROM cdrs WHERE call_id = ?
			ORDER BY saved_at DESC, started_at DESC, run_id DESC LIMIT 1`+s.forUpdate()), callID).Scan(&runID, jsonScan{&raw})
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("no CDR: %w", ErrNotFound)
		}
		if err != nil {
			return err
		}
		var stays []records.QueueStay
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &stays); err != nil {
				return fmt.Errorf("run %q queues: %w", runID, err)
			}
		}
		i := lastStayOf(stays, agent)
		if i < 0 {
			return fmt.Errorf("run %q has no queue stay answered by the agent: %w", runID, ErrNotFound)
		}
		stays[i].WrapUp, stays[i].Disposition, stays[i].Notes = wrapUp, disposition, notes
		b, err := json.Marshal(stays)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.rebind(`UPDATE cdrs SET queues = ? WHERE call_id = ? AND run_id = ?`), string(b), callID, runID)
		return err
	})
	if err != nil {
		return fmt.Errorf("set CDR wrap-up of call %q by agent %q: %w", callID, agent, err)
	}
	return nil
}

// lastStayOf is the index of agent's stay enqueued last (the later one of
// equal times), or -1.
func lastStayOf(stays []records.QueueStay, agent string) int {
	best := -1
	for i, st := range stays {
		if st.Agent == agent && (best < 0 || !st.EnqueuedAt.Before(stays[best].EnqueuedAt)) {
			best = i
		}
	}
	return best
}

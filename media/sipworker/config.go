// Package sipworker is the SIP media worker: it answers phone calls over
// SIP/RTP (sipgo and diago), starts a CallWorkflow for each inbound call and
// serves the media activities (play, collect, record, transfer, hangup) of
// those calls on its own task queue, activities.MediaQueue(ID).
//
// Like the text channel, it holds live sessions by call ID; every media
// activity is bound to its call's session and fails with CallGone once the
// caller is no longer there.
package sipworker

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/media/asr"
	"github.com/voxflow/voxflow/media/sipguard"
	"github.com/voxflow/voxflow/media/tts"
)

// Synthesizer renders text to 8 kHz mono 16-bit PCM (media/tts fits).
type Synthesizer interface {
	Synthesize(ctx context.Context, text, voice, language string) ([]int16, error)
}

// Config configures a SIP media worker.
type Config struct {
	// ID names the worker; its task queue is activities.MediaQueue(ID).
	ID string
	// SIPAddr is where SIP is served on both UDP and TCP (required).
	SIPAddr string
	// TLSCert and TLSKey are PEM files of a certificate (chain) and its key.
	// With both set SIP is also served over TLS on TLSAddr (default: the
	// SIPAddr host with its port + 1, i.e. :5061); a bad or missing file is
	// a startup error.
	TLSCert, TLSKey string
	TLSAddr         string
	// ExternalHost is the host put in Contact and SDP when it differs from
	// the bind address (NAT, containers).
	ExternalHost string
	// RTPPortStart and RTPPortEnd bound the RTP ports (RTCP takes port+1).
	// The range is process-wide (diago keeps it in package variables); zero
	// leaves ephemeral ports.
	RTPPortStart, RTPPortEnd int

	// Routes finds the flow serving a dialled number (required); an error
	// wrapping activities.ErrNoRoute is answered 404. The worker serves the
	// media activities (activities.Channel) of its calls: run them on a
	// Temporal worker polling Queue() with activities.RegisterChannel.
	Routes activities.Routes
	// StartCall starts CallWorkflow for an answered call (required).
	StartCall func(ctx context.Context, call activities.CallStart) error
	// SignalHangup tells a call's workflow that the caller hung up
	// (platform.HangupSignaler(c) fits).
	SignalHangup func(ctx context.Context, callID string) error
	// SignalAnswered tells a call's workflow that the other party of its
	// bridged transfer answered, while the transfer goes on (routing shows
	// the agent on call from then); platform.AnswerSignaler(c) fits. Nil:
	// the workflow learns of the answer when the bridge ends.
	SignalAnswered func(ctx context.Context, callID string, ev activities.BridgeAnswered) error
	// SignalSilence tells a call's workflow that its bridge went quiet for
	// BridgeSilence (neither party above -45 dBFS), and again when a party
	// speaks; platform.SilenceSignaler(c) fits. Nil: no silence alerts.
	SignalSilence func(ctx context.Context, callID string, ev activities.BridgeSilence) error
	// BridgeSilence is how long a bridged conversation may be quiet before
	// the alert (default 30 s; negative: never).
	BridgeSilence time.Duration
	// CallClosed reports whether a call's workflow has ended
	// (platform.CallClosedChecker(c) fits). With it the worker hangs up
	// calls whose workflow ended without hanging them up (terminated by an
	// operator, or given up as media-lost while this worker was only
	// slow), checking every OrphanCheck (default 15s) the calls with no
	// media activity running. Nil leaves such calls to the caller.
	CallClosed  func(ctx context.Context, callID string) (bool, error)
	OrphanCheck time.Duration
	// FailLostTasks fails, as lost, the call's media activities Temporal
	// marked started within (after, before) while this worker runs none
	// of them, and returns how many (platform.LostTaskFailer(c, ns) fits).
	// A poll answer lost when the matching service dies, or a completion
	// lost while the history service is down, leaves such an activity and
	// a caller in silence for its whole start-to-close timeout. Nil: not
	// checked.
	FailLostTasks func(ctx context.Context, callID string, after, before time.Time) (int, error)
	// CallVars are variable overrides given to every call (e.g. crm_url).
	CallVars map[string]any
	// TTS renders text prompts (default: tts.NewDefault, espeak-ng cached,
	// or the shipped prompts when espeak-ng is missing).
	TTS Synthesizer
	// ASR recognises spoken menu choices (collects with phrases). Default:
	// asr.NewDefault, pocketsphinx offline, or nil when it is not
	// installed, and then menus take keys only.
	ASR asr.Recognizer
	// Transcriber turns free speech into text (collects with FreeSpeech:
	// intent and llm nodes). Default: ASR when it transcribes too
	// (asr.Transcriber), else none, and then those collects take keys
	// only (said once at start, and once in each call that asks).
	Transcriber asr.Transcriber
	// RecordDir is where recordings are written (default: os.TempDir()/voxflow-recordings).
	RecordDir string
	// PromptDir resolves relative audio prompt paths (default: current directory).
	PromptDir string
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// TemporalTimeout bounds each Temporal call the worker makes itself
	// (start workflow, hangup signal); default 10s.
	TemporalTimeout time.Duration

	// Trunk is where media.Originate sends calls to bare numbers; nil
	// allows only calls to SIP URIs.
	Trunk *Trunk
	// OriginateFrom is the caller ID of originated calls when the request
	// has none: a number/user (sent as sip:<it>@<trunk or our host>) or a
	// SIP URI. Empty leaves sipgo's default.
	OriginateFrom string

	// Registry, when set, is told every ReportInterval (default 2s) that
	// the worker is alive and how many calls it holds, for least-loaded
	// originate (the store fits). A draining worker reports -1 calls; on
	// Close it removes itself when the registry has
	// RemoveMediaWorker(ctx, id) error, else reports -1.
	Registry       Registry
	ReportInterval time.Duration

	// Registrar, when set, answers REGISTER from agents' phones (see
	// register.go); without it REGISTER gets 405.
	Registrar Registrar

	// Admission limits new inbound calls (live calls, new calls per
	// second; zero: no limit): INVITEs over them get 503 with Retry-After
	// before any store or Temporal work (media/sipguard).
	Admission sipguard.Limits

	// Bans, when set, drop every request from a banned source unanswered
	// (worker.go); the registrar reports digest failures to it.
	Bans *sipguard.Bans

	// OnCallQuality, when set, is told each call's media quality (loss,
	// jitter, E-model MOS) once it has ended, from a goroutine of its own.
	OnCallQuality func(callID string, q CallQuality)

	// tls is the TLS listener's configuration, loaded from TLSCert/TLSKey.
	tls *tls.Config
	// admit holds the Admission limits' live count and tokens (inbound.go).
	admit *sipguard.Admitter
	// freeSpeechOff remembers the calls already told that free speech is
	// off (speech.go).
	freeSpeechOff *oncePerCall
}

// Trunk is a SIP trunk for outbound calls.
type Trunk struct {
	// URI of the trunk, e.g. "sip:sip.example.net:5060;transport=tcp"; a
	// bare number N is sent to this URI with user part N.
	URI string
	// Username and Password answer digest challenges (401/407) of the trunk;
	// empty Password means no authentication.
	Username, Password string
}

// Registry records live media workers (the store fits).
type Registry interface {
	ReportMediaWorker(ctx context.Context, w records.MediaWorker) error
}

func (c *Config) defaults() error {
	if c.ID == "" {
		return errors.New("sipworker: Config.ID is required")
	}
	if c.SIPAddr == "" {
		return errors.New("sipworker: Config.SIPAddr is required")
	}
	if c.Routes == nil {
		return errors.New("sipworker: Config.Routes is required")
	}
	if c.StartCall == nil {
		return errors.New("sipworker: Config.StartCall is required")
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.TTS == nil {
		c.TTS = tts.NewDefault(c.Logger)
	}
	if c.ASR == nil {
		c.ASR = asr.NewDefault(c.Logger)
	}
	c.defaultTranscriber()
	if c.Admission.MaxCalls < 0 || c.Admission.MaxCallRate < 0 {
		return fmt.Errorf("sipworker: admission limits must not be negative: %+v", c.Admission)
	}
	c.admit = sipguard.NewAdmitter(c.Admission, nil)
	if c.TemporalTimeout <= 0 {
		c.TemporalTimeout = 10 * time.Second
	}
	if (c.RTPPortStart == 0) != (c.RTPPortEnd == 0) || c.RTPPortEnd < c.RTPPortStart {
		return fmt.Errorf("sipworker: bad RTP port range %d-%d", c.RTPPortStart, c.RTPPortEnd)
	}
	if _, _, err := splitHostPort(c.SIPAddr); err != nil {
		return err
	}
	if err := c.loadTLS(); err != nil {
		return err
	}
	if c.Trunk != nil {
		if _, err := c.Trunk.uri(); err != nil {
			return err
		}
	}
	if c.ReportInterval <= 0 {
		c.ReportInterval = 2 * time.Second
	}
	if c.OrphanCheck <= 0 {
		c.OrphanCheck = 15 * time.Second
	}
	return nil
}

// defaultTranscriber takes ASR as the transcriber when it transcribes, and
// says once whether free speech is on.
func (c *Config) defaultTranscriber() {
	if c.Transcriber == nil {
		if t, ok := c.ASR.(asr.Transcriber); ok {
			c.Transcriber = t
		}
	}
	c.freeSpeechOff = &oncePerCall{}
	if c.Transcriber == nil {
		c.Logger.Info("sipworker: free speech is off, intent and llm nodes on phone calls accept keys only: no transcriber",
			"fix", "set Config.Transcriber, or a Config.ASR that implements asr.Transcriber")
		return
	}
	c.Logger.Info("sipworker: free speech is transcribed", "transcriber", recognizerName(c.Transcriber))
}

// splitHostPort splits a listen address; an empty host means all interfaces.
func splitHostPort(addr string) (string, int, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("sipworker: SIP address %q: %w", addr, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return "", 0, fmt.Errorf("sipworker: SIP address %q: bad port", addr)
	}
	if host == "" {
		host = "0.0.0.0"
	}
	return host, p, nil
}

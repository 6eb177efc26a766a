package audio

// Answering-machine detection from the energy of the first seconds after an
// outbound call is answered. People answer with a short greeting ("Hello?")
// and then wait; machines play a long greeting ("Hi, you have reached ...").
// The rules are the classic ones of PBX AMD: too long a greeting or too many
// words means a machine, a short greeting followed by silence a person, and
// anything else within the analysis time is unknown. A beep (see
// BeepDetector) heard before the decision means a machine too. It is a hint
// for the flow (leave a message or talk), never certain.
//
// It also tells where the greeting ended, which a dialer needs: a person's
// "Hello?" ends with their last word (the decision comes AfterGreetingMs
// later); with AwaitBeep, a machine's greeting ends with its beep, or with
// the start of BeepSilenceMs of quiet when no beep comes, so that a message
// played next is recorded whole.

// Who answered an outbound call.
const (
	AnsweredHuman   = "human"
	AnsweredMachine = "machine"
	AnsweredUnknown = "unknown"
)

// MachineConfig tunes a MachineDetector. Zero fields take the defaults.
type MachineConfig struct {
	// ThresholdDBFS: frames louder than this are voiced (default -40).
	ThresholdDBFS float64
	// InitialSilenceMs without any word ends the analysis as unknown
	// (default 2500): nobody said anything.
	InitialSilenceMs int
	// GreetingMs of voiced audio in the greeting means a machine (default
	// 1500): people say "Hello?" in well under that.
	GreetingMs int
	// AfterGreetingMs of silence after the greeting means a person
	// waiting for an answer (default 800).
	AfterGreetingMs int
	// MinWordMs of voiced frames make a word (default 100); shorter bursts
	// are clicks. BetweenWordsMs of silence separates words (default 50).
	MinWordMs, BetweenWordsMs int
	// MaxWords in the greeting; more means a machine (default 3).
	MaxWords int
	// TotalMs bounds the analysis (default 5000); undecided then is unknown.
	TotalMs int

	// AwaitBeep: after a machine decision, keep listening until the
	// greeting ends: its beep ends, or BeepSilenceMs of quiet follow it
	// (default 2000), or GreetingCapMs of audio have passed since the
	// first (default 20000; the end is then unknown).
	AwaitBeep                    bool
	BeepSilenceMs, GreetingCapMs int
	// Beep tunes the beep detector.
	Beep BeepConfig
}

func (c MachineConfig) withDefaults() MachineConfig {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	if c.ThresholdDBFS == 0 {
		c.ThresholdDBFS = -40
	}
	def(&c.InitialSilenceMs, 2500)
	def(&c.GreetingMs, 1500)
	def(&c.AfterGreetingMs, 800)
	def(&c.MinWordMs, 100)
	def(&c.BetweenWordsMs, 50)
	def(&c.MaxWords, 3)
	def(&c.TotalMs, 5000)
	def(&c.BeepSilenceMs, 2000)
	def(&c.GreetingCapMs, 20000)
	return c
}

// MachineDetector classifies who answered from 8 kHz audio fed in any
// chunk size. It is not safe for concurrent use.
type MachineDetector struct {
	cfg     MachineConfig
	pending []int16 // less than a frame, carried to the next Process
	beeps   *BeepDetector

	elapsed  int // ms analysed
	voiced   int // ms of voiced frames in the greeting's words
	loudRun  int // ms of consecutive voiced frames
	quietRun int // ms of consecutive silent frames
	inWord   bool
	words    int
	wordEnd  int // ms at which the last word's last voiced frame ended
	decision string
	reason   string

	// Where the greeting ended, once known (ended), and whether a beep
	// ended it; capped: AwaitBeep gave up at GreetingCapMs.
	ended, beep, capped bool
	endMs               int
}

// NewMachineDetector returns a detector with cfg's zero fields defaulted.
func NewMachineDetector(cfg MachineConfig) *MachineDetector {
	cfg = cfg.withDefaults()
	return &MachineDetector{cfg: cfg, beeps: NewBeepDetector(cfg.Beep)}
}

// amdFrame is the analysis frame: 20 ms at 8 kHz.
const amdFrame = FrameSamples

// Process analyses pcm and returns the decision once made ("" before);
// after that it keeps returning the same decision. With AwaitBeep it goes
// on listening after a machine decision until Done.
func (d *MachineDetector) Process(pcm []int16) string {
	if d.Done() {
		return d.decision
	}
	d.pending = append(d.pending, pcm...)
	n := 0
	for ; len(d.pending)-n >= amdFrame && !d.Done(); n += amdFrame {
		d.step(d.pending[n : n+amdFrame])
	}
	d.pending = d.pending[:copy(d.pending, d.pending[n:])]
	return d.decision
}

// Decision is the decision so far ("" while undecided) and why.
func (d *MachineDetector) Decision() (answeredBy, reason string) { return d.decision, d.reason }

// Done reports whether the detector wants no more audio: it has decided
// and, with AwaitBeep and a machine, the greeting has ended (or the cap
// passed).
func (d *MachineDetector) Done() bool {
	if d.decision == "" {
		return false
	}
	return d.decision != AnsweredMachine || !d.cfg.AwaitBeep || d.ended || d.capped
}

// GreetingEnd tells where the callee's greeting ended, in ms from the first
// audio fed: for a person, the end of their last word; for a machine, the
// end of its beep (beep true) or, with AwaitBeep, the start of the quiet
// that followed it. ok is false while that is unknown, and stays false for
// an unknown callee, for a machine without AwaitBeep that had not beeped by
// the decision, and for one still talking at GreetingCapMs.
func (d *MachineDetector) GreetingEnd() (ms int, beep, ok bool) {
	return d.endMs, d.beep, d.ended
}

func (d *MachineDetector) decide(by, reason string) {
	d.decision, d.reason = by, reason
	if by == AnsweredHuman {
		d.endAt(d.wordEnd, false)
	}
}

func (d *MachineDetector) endAt(ms int, beep bool) {
	d.ended, d.endMs, d.beep = true, ms, beep
}

// step analyses one frame: the beep detector hears every frame; before the
// decision the greeting's words are counted, after it (AwaitBeep) the
// greeting's end is awaited.
func (d *MachineDetector) step(frame []int16) {
	const ms = FrameMs
	d.elapsed += ms
	beep, beepEnded := d.beeps.Process(frame)
	loud := LevelDBFS(frame) > d.cfg.ThresholdDBFS
	if loud {
		d.loudRun += ms
		d.quietRun = 0
	} else {
		d.quietRun += ms
		d.loudRun = 0
	}
	if d.decision == "" {
		d.classify(loud)
		if d.decision == "" && (beepEnded || d.beeps.InTone()) {
			d.decide(AnsweredMachine, "beep")
		}
	}
	if d.decision != AnsweredMachine || d.ended {
		return
	}
	switch {
	case beepEnded:
		d.endAt(beep.EndMs, true)
	case d.cfg.AwaitBeep && d.quietRun >= d.cfg.BeepSilenceMs:
		d.endAt(d.elapsed-d.quietRun, false)
	case d.cfg.AwaitBeep && d.elapsed >= d.cfg.GreetingCapMs:
		d.capped = true
	}
}

// classify applies the greeting rules to one frame (the runs are updated).
func (d *MachineDetector) classify(loud bool) {
	c := &d.cfg
	if loud {
		switch {
		case d.inWord:
			d.voiced += FrameMs
		case d.loudRun >= c.MinWordMs:
			// A burst long enough not to be a click: a word, all of it voiced.
			d.inWord = true
			d.words++
			d.voiced += d.loudRun
		}
		if d.inWord {
			d.wordEnd = d.elapsed
		}
		switch {
		case d.words > c.MaxWords:
			d.decide(AnsweredMachine, "too many words")
		case d.voiced >= c.GreetingMs:
			d.decide(AnsweredMachine, "long greeting")
		}
		if d.decision != "" {
			return
		}
	} else {
		if d.inWord && d.quietRun >= c.BetweenWordsMs {
			d.inWord = false
		}
		switch {
		case d.words == 0 && d.elapsed >= c.InitialSilenceMs:
			d.decide(AnsweredUnknown, "initial silence")
			return
		case d.words > 0 && !d.inWord && d.quietRun >= c.AfterGreetingMs:
			d.decide(AnsweredHuman, "short greeting, then silence")
			return
		}
	}
	if d.elapsed >= c.TotalMs {
		d.decide(AnsweredUnknown, "analysis time over")
	}
}

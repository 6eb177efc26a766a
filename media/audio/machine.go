package audio

// Answering-machine detection from the energy of the first seconds after an
// outbound call is answered. People answer with a short greeting ("Hello?")
// and then wait; machines play a long greeting ("Hi, you have reached ...").
// The rules are the classic ones of PBX AMD: too long a greeting or too many
// words means a machine, a short greeting followed by silence a person, and
// anything else within the analysis time is unknown. It is a hint for the
// flow (leave a message or talk), never certain.

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
	return c
}

// MachineDetector classifies who answered from 8 kHz audio fed in any
// chunk size. It is not safe for concurrent use.
type MachineDetector struct {
	cfg     MachineConfig
	pending []int16 // less than a frame, carried to the next Process

	elapsed  int // ms analysed
	voiced   int // ms of voiced frames in the greeting's words
	loudRun  int // ms of consecutive voiced frames
	quietRun int // ms of consecutive silent frames
	inWord   bool
	words    int
	decision string
	reason   string
}

// NewMachineDetector returns a detector with cfg's zero fields defaulted.
func NewMachineDetector(cfg MachineConfig) *MachineDetector {
	return &MachineDetector{cfg: cfg.withDefaults()}
}

// amdFrame is the analysis frame: 20 ms at 8 kHz.
const amdFrame = 160

// Process analyses pcm and returns the decision once made ("" before);
// after that it keeps returning the same decision.
func (d *MachineDetector) Process(pcm []int16) string {
	if d.decision != "" {
		return d.decision
	}
	d.pending = append(d.pending, pcm...)
	for len(d.pending) >= amdFrame && d.decision == "" {
		d.step(LevelDBFS(d.pending[:amdFrame]) > d.cfg.ThresholdDBFS)
		d.pending = d.pending[amdFrame:]
	}
	return d.decision
}

// Decision is the decision so far ("" while undecided) and why.
func (d *MachineDetector) Decision() (answeredBy, reason string) { return d.decision, d.reason }

func (d *MachineDetector) decide(by, reason string) {
	d.decision, d.reason = by, reason
}

func (d *MachineDetector) step(loud bool) {
	const ms = 20
	c := &d.cfg
	d.elapsed += ms
	if loud {
		d.loudRun += ms
		d.quietRun = 0
		switch {
		case d.inWord:
			d.voiced += ms
		case d.loudRun >= c.MinWordMs:
			// A burst long enough not to be a click: a word, all of it voiced.
			d.inWord = true
			d.words++
			d.voiced += d.loudRun
			if d.words > c.MaxWords {
				d.decide(AnsweredMachine, "too many words")
				return
			}
		}
		if d.voiced >= c.GreetingMs {
			d.decide(AnsweredMachine, "long greeting")
			return
		}
	} else {
		d.quietRun += ms
		d.loudRun = 0
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

package e2e

import (
	"context"
	"fmt"
	"html"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	prtp "github.com/pion/rtp"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/media/audio"
	"github.com/voxflow/voxflow/media/g711"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
	"github.com/voxflow/voxflow/media/wav"
	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/platform/config"
	"github.com/voxflow/voxflow/platform/devstack"
)

// The browser channels' end-to-end rig (browser_test.go): flows, a caller
// that talks RTP from Go while SIPp does its SIP, WAV "voices" for
// Chromium's fake microphone, and the node test runner.

// deskFlow looks the caller up in the demo CRM (the screen-pop shows the
// record) and waits in queue browser-e2e for the agent's desk.
const deskFlow = `name: browser-desk
entry: lookup
settings:
  language: en-US
variables:
  crm_url: ""
  customer: null
  intent: "billing"
  q: null
nodes:
  lookup:
    type: http
    url: "{{ vars.crm_url }}/customers?phone={{ call.from }}"
    timeout: 3s
    response:
      customer: response.body
    next: wait
    on_error: wait
  wait:
    type: queue
    queue: browser-e2e
    skills: '["english"]'
    timeout: 2m
    var: q
    next: bye
    on_timeout: bye
  bye:
    type: hangup
    say: "Goodbye."
`

// menuFlow is a menu a browser caller answers with the widget's keypad
// (keys only: the caller's tone must not pass for a spoken choice).
const menuFlow = `name: browser-menu
entry: main_menu
settings:
  language: en-US
  input_timeout: 15s
variables:
  department: ""
nodes:
  main_menu:
    type: menu
    prompt: "For sales press 1. For billing press 2."
    options:
      "1": sales
      "2": billing
    retries: 2
    on_failure: bye
  sales:
    type: set
    assign:
      department: '"sales"'
    next: bye
  billing:
    type: set
    assign:
      department: '"billing"'
    next: bye
  bye:
    type: hangup
    say: "Thank you. Goodbye."
`

// chatFlow answers a web chat with a menu, then queues it for the desk.
const chatFlow = `name: browser-chat
entry: main_menu
settings:
  language: en-US
  input_timeout: 60s
variables:
  department: ""
  q: null
nodes:
  main_menu:
    type: menu
    prompt: "Hello! For sales type 1. For billing type 2."
    options:
      "1": { next: sales, phrases: [sales] }
      "2": { next: billing, phrases: [billing] }
    retries: 2
    on_failure: bye
  sales:
    type: set
    assign:
      department: '"sales"'
    next: wait
  billing:
    type: set
    assign:
      department: '"billing"'
    next: wait
  wait:
    type: queue
    queue: browser-e2e
    skills: '["english"]'
    timeout: 2m
    var: q
    next: bye
    on_timeout: bye
  bye:
    type: hangup
    say: "Thank you for chatting with us. Goodbye."
`

// Tones of the parties: each voice is a distinct frequency.
const (
	callerHz   = 440.0  // the SIPp caller (RTP from Go)
	agentHz    = 1000.0 // the agent's Chromium
	customerHz = 700.0  // the widget's Chromium
	// the supervisor's Chromium: apart from the others and from their
	// harmonics and mixes (3x440 = 1320, 4x440 = 1760, 2x1000-440 = 1560)
	supervisorHz = 1700.0
)

// A tone in what the caller heard (toneLevels) is heard at minHeardDBFS
// or above and absent at maxUnheardDBFS or below. Heard voices measure
// -18 to -2 dBFS; an absent one -75 to -65, or about -60 while alice
// hears the supervisor (probably her browser's echo canceller leaving a
// trace of it in her microphone's audio, which the caller rightly hears).
const (
	minHeardDBFS   = -35.0
	maxUnheardDBFS = -45.0
)

// toneLevels cuts pcm (8 kHz) into 200 ms chunks and returns, for each
// tone, the level at that frequency (dBFS, sipptest.ToneShare of the
// chunk's power) that a quarter of the chunks reach: a voice talking in
// bursts that was heard, even under a louder one, stands well above
// maxUnheardDBFS; codec noise stays far below.
func toneLevels(pcm []int16, hzs ...float64) []float64 {
	const chunk = 1600
	per := make([][]float64, len(hzs))
	for i := 0; i+chunk <= len(pcm); i += chunk {
		c := pcm[i : i+chunk]
		level := audio.LevelDBFS(c)
		for j, hz := range hzs {
			share := sipptest.ToneShare(c, hz)
			db := audio.MinDBFS
			if share > 0 {
				db = max(audio.MinDBFS, level+10*math.Log10(share))
			}
			per[j] = append(per[j], db)
		}
	}
	out := make([]float64, len(hzs))
	for j := range hzs {
		out[j] = audio.MinDBFS
		if n := len(per[j]); n > 0 {
			slices.Sort(per[j])
			out[j] = per[j][n*3/4]
		}
	}
	return out
}

// writeVoice writes a 48 kHz mono WAV of a tone of hz in bursts (600 ms on,
// 200 ms off: speech-like, so the browser's noise suppression does not take
// it for steady noise), for Chromium's --use-file-for-fake-audio-capture.
func writeVoice(t *testing.T, path string, hz float64) {
	t.Helper()
	const rate = 48000
	pcm := make([]int16, 8*rate)
	for i := range pcm {
		if i%(rate*8/10) < rate*6/10 {
			pcm[i] = int16(10000 * math.Sin(2*math.Pi*hz*float64(i)/rate))
		}
	}
	if err := wav.WriteFile(path, rate, pcm); err != nil {
		t.Fatal(err)
	}
}

// rtpCaller is the media end of the SIPp caller: SIPp offers this socket
// in its SDP, so the worker sends here; it talks a tone back (PCMA, 20 ms
// frames) once it knows where from, counts packets both ways and keeps
// what it heard with arrival times.
type rtpCaller struct {
	conn *net.UDPConn
	hz   float64

	mu     sync.Mutex
	remote *net.UDPAddr
	sent   int
	frames []heardFrame
	done   chan struct{}
}

type heardFrame struct {
	at  time.Time
	pcm []int16
}

func newRTPCaller(t *testing.T, hz float64) *rtpCaller {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c := &rtpCaller{conn: conn, hz: hz, done: make(chan struct{})}
	go c.read()
	go c.talk()
	t.Cleanup(c.close)
	return c
}

func (c *rtpCaller) port() int { return c.conn.LocalAddr().(*net.UDPAddr).Port }

func (c *rtpCaller) close() {
	select {
	case <-c.done:
	default:
		close(c.done)
		c.conn.Close()
	}
}

func (c *rtpCaller) read() {
	buf := make([]byte, 1500)
	for {
		n, from, err := c.conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		var p prtp.Packet
		if p.Unmarshal(buf[:n]) != nil || p.PayloadType != 8 {
			continue
		}
		pcm := make([]int16, len(p.Payload))
		g711.DecodeALaw(pcm, p.Payload)
		c.mu.Lock()
		if c.remote == nil {
			c.remote = from
		}
		c.frames = append(c.frames, heardFrame{at: time.Now(), pcm: pcm})
		c.mu.Unlock()
	}
}

// talk sends the tone every 20 ms to where the worker's RTP comes from.
func (c *rtpCaller) talk() {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	pkt := prtp.Packet{Header: prtp.Header{Version: 2, PayloadType: 8, SSRC: 0x5eed, SequenceNumber: 1}}
	pcm := make([]int16, 160)
	var n int
	for {
		select {
		case <-c.done:
			return
		case <-tick.C:
		}
		c.mu.Lock()
		to := c.remote
		c.mu.Unlock()
		if to == nil {
			continue
		}
		for i := range pcm {
			pcm[i] = int16(8000 * math.Sin(2*math.Pi*c.hz*float64(n+i)/8000))
		}
		n += len(pcm)
		pkt.Payload = make([]byte, len(pcm))
		g711.EncodeALaw(pkt.Payload, pcm)
		b, _ := pkt.Marshal()
		if _, err := c.conn.WriteToUDP(b, to); err == nil {
			c.mu.Lock()
			c.sent++
			c.mu.Unlock()
		}
		pkt.SequenceNumber++
		pkt.Timestamp += uint32(len(pcm))
	}
}

// counts are the packets sent and received so far.
func (c *rtpCaller) counts() (sent, received int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sent, len(c.frames)
}

// heard is the audio that arrived within [from, to).
func (c *rtpCaller) heard(from, to time.Time) []int16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []int16
	for _, f := range c.frames {
		if !f.at.Before(from) && f.at.Before(to) {
			out = append(out, f.pcm...)
		}
	}
	return out
}

// stateLog follows an agent's state on the router's board until stopped.
type stateLog struct {
	mu      sync.Mutex
	changes []stateChange
	stop    chan struct{}
	stopped chan struct{}
}

type stateChange struct {
	at    time.Time
	state string
}

func watchAgent(r platform.Router, name string) *stateLog {
	l := &stateLog{stop: make(chan struct{}), stopped: make(chan struct{})}
	go func() {
		defer close(l.stopped)
		last := ""
		for {
			if b, err := r.Board(context.Background()); err == nil {
				st := agentState(b, name)
				if st != last {
					l.mu.Lock()
					l.changes = append(l.changes, stateChange{time.Now(), st})
					l.mu.Unlock()
					last = st
				}
			}
			select {
			case <-l.stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return l
}

func agentState(b activities.Board, name string) string {
	for _, a := range b.Agents {
		if a.Name == name {
			return a.State
		}
	}
	return "offline"
}

func (l *stateLog) close() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	<-l.stopped
}

// now is the latest state seen.
func (l *stateLog) now() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.changes) == 0 {
		return ""
	}
	return l.changes[len(l.changes)-1].state
}

// span is when the agent first entered state and when they left it (zero
// while still in it); ok is false when they never were.
func (l *stateLog) span(state string) (from, to time.Time, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, c := range l.changes {
		if c.state != state {
			continue
		}
		if i+1 < len(l.changes) {
			return c.at, l.changes[i+1].at, true
		}
		return c.at, time.Time{}, true
	}
	return time.Time{}, time.Time{}, false
}

// nodeTest runs one browser test file of designer-api/web/e2e with env.
type nodeTest struct {
	t    *testing.T
	node string
	root string
	env  []string
}

// start runs file in the background; wait returns its error and output.
func (n nodeTest) start(file string, timeout time.Duration) (wait func() (string, error)) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	cmd := exec.CommandContext(ctx, n.node, "--test", "--test-reporter=spec", filepath.Join("designer-api", "web", "e2e", file))
	cmd.Dir = n.root
	cmd.Env = append(os.Environ(), n.env...)
	out := &syncWriter{}
	cmd.Stdout, cmd.Stderr = out, out
	start := time.Now()
	err := cmd.Start()
	done := make(chan error, 1)
	if err == nil {
		go func() { done <- cmd.Wait() }()
	} else {
		done <- err
	}
	return func() (string, error) {
		err := <-done
		cancel()
		n.t.Logf("node --test %s (%v):\n%s", file, time.Since(start).Round(time.Millisecond), out.String())
		return out.String(), err
	}
}

type syncWriter struct {
	mu sync.Mutex
	b  []byte
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b = append(w.b, p...)
	return len(p), nil
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.b)
}

// startDevSIPWith is startDevSIP with change applied to the configuration
// first (a stage of the browser tests needs widget origins, for one).
func startDevSIPWith(t *testing.T, change func(*config.Config)) (*devstack.Dev, string, string) {
	t.Helper()
	sipptest.Need(t)
	dataDir := t.TempDir()
	// Free ports are picked before they are bound: with other packages'
	// tests running beside, one may be taken meanwhile. Pick again then.
	for attempt := 1; ; attempt++ {
		httpAddr, _ := freeAddr(t)
		_, tport := freeAddr(t)
		sipAddr := fmt.Sprintf("127.0.0.1:%d", sipptest.FreePort(t))
		cfg := devConfig(dataDir, tport, httpAddr, sipAddr)
		change(&cfg)
		dev, err := devstack.StartDev(context.Background(), cfg, devstack.Options{})
		if err != nil && attempt < 3 && portTaken(err) {
			t.Logf("start voxflow dev (attempt %d): %v; picking other ports", attempt, err)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(dev.Stop)
		t.Setenv("VOXFLOW_DATA_DIR", dataDir) // the CLI finds dev's payload key there
		return dev, sipAddr, "sqlite://" + filepath.Join(dataDir, "voxflow.db")
	}
}

// companySite serves a company's page on another origin than voxflow's
// (base) that embeds the widget as the snippet says, with crossorigin so
// the browser insists on CORS; it returns the page's URL.
func companySite(t *testing.T, base string) string {
	page := `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Example Co.</title></head>
<body><h1>Example Co.</h1><p>Questions? Use the button at the bottom right.</p>
<script src="` + html.EscapeString(base) + `/widget.js" data-number="6200" data-title="Example Co. support" crossorigin="anonymous" async></script>
</body></html>`
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(page))
	})
	return httptestServer(t, h) + "/"
}

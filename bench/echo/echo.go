// Package echo is the bare baseline of the SIP load benchmarks: a minimal
// sipgo UAS with its own RTP, no Temporal and no flow engine in the path.
//
// It answers INVITE with PCMU (or PCMA) plus telephone-event, sends paced
// 20 ms frames with media/rtp's Pacer on a shared media/rtp Clock, detects
// RFC 4733 digits with media/rtp's EventReceiver, decodes the caller's
// G.711 (the work the voxflow worker does on receive), and handles BYE
// both ways. What it plays is a
// tiny hard-coded "flow" per dialled number (Flow: play, menu, hangup nodes,
// the shape of voxflow's), so a benchmark can drive the same call through
// voxflow and through this server and compare. A number with no flow is an
// echo call: the caller's audio frames are sent back.
package echo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/voxflow/voxflow/media/g711"
	vrtp "github.com/voxflow/voxflow/media/rtp"
)

// FrameSamples is one 20 ms frame at 8 kHz.
const FrameSamples = 160

// Node is one step of a Flow. A node with Options is a menu: its prompt
// plays with barge-in, then the first key press picks the next node
// (a key with no option, or no key within Timeout, goes to OnFailure). A
// node without Options plays its prompt and goes to Next; with no Next it
// hangs up after its prompt.
type Node struct {
	Prompt    []int16 // 8 kHz PCM
	Next      string
	Options   map[rune]string
	OnFailure string
	Timeout   time.Duration // menu input timeout; 5 s if zero
}

// Flow is what the server plays to a dialled number.
type Flow struct {
	Entry string
	Nodes map[string]Node
}

// Config configures a Server.
type Config struct {
	Addr  string          // UDP host:port for SIP
	Flows map[string]Flow // by dialled number; a number without one is an echo call
	// OnAnswer, when set, is called once per answered call (after the 200 OK).
	OnAnswer func()
	Logger   *slog.Logger
}

// Server is a running echo UAS.
type Server struct {
	cfg    Config
	log    *slog.Logger
	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	dialog *sipgo.DialogServerCache
	ctx    context.Context
	cancel context.CancelFunc
	calls  sync.WaitGroup
	live   atomic.Int64
	closed atomic.Bool
}

// Start listens on cfg.Addr (UDP) and serves calls until Close.
func Start(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	host, portStr, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("echo: address %q: %w", cfg.Addr, err)
	}
	port, _ := strconv.Atoi(portStr)
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("voxflow-bench-echo"))
	if err != nil {
		return nil, err
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		return nil, err
	}
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname(host), sipgo.WithClientPort(port))
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger, ua: ua, srv: srv,
		dialog: sipgo.NewDialogServerCache(client, sip.ContactHeader{Address: sip.Uri{User: "echo", Host: host, Port: port}})}
	srv.OnInvite(s.onInvite)
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) { _ = s.dialog.ReadAck(req, tx) })
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		if err := s.dialog.ReadBye(req, tx); err != nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
		}
	})
	srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
	})
	ctx, cancel := context.WithCancel(context.Background())
	s.ctx, s.cancel = ctx, cancel
	ready := make(chan error, 1)
	go func() {
		conn, err := net.ListenPacket("udp", cfg.Addr)
		if err != nil {
			ready <- err
			return
		}
		ready <- nil
		go func() {
			<-ctx.Done()
			conn.Close()
		}()
		_ = srv.ServeUDP(conn)
	}()
	if err := <-ready; err != nil {
		cancel()
		ua.Close()
		return nil, fmt.Errorf("echo: listen %s: %w", cfg.Addr, err)
	}
	return s, nil
}

// LiveCalls is the number of answered calls in progress.
func (s *Server) LiveCalls() int { return int(s.live.Load()) }

// Close stops serving; calls in progress end (their RTP stops, no BYE).
func (s *Server) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	s.cancel()
	s.calls.Wait()
	return s.ua.Close()
}

// Media is what the server needs from an SDP offer (or a client from an answer).
type Media struct {
	Remote  netip.AddrPort
	AudioPT int // 0 PCMU or 8 PCMA
	EventPT int // -1 without telephone-event
}

// ParseSDP reads the c=, m=audio and a=rtpmap lines: enough for SIPp, the
// benchmark's client and voxflow's answers.
func ParseSDP(body []byte) (Media, error) {
	o := Media{AudioPT: -1, EventPT: -1}
	var ip netip.Addr
	var port int
	var formats []string
	rtpmap := map[string]string{}
	for _, line := range strings.Split(string(body), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "c="):
			f := strings.Fields(line[2:])
			if len(f) == 3 {
				ip, _ = netip.ParseAddr(f[2])
			}
		case strings.HasPrefix(line, "m=audio "):
			f := strings.Fields(line[2:])
			if len(f) >= 4 {
				port, _ = strconv.Atoi(f[1])
				formats = f[3:]
			}
		case strings.HasPrefix(line, "a=rtpmap:"):
			pt, enc, ok := strings.Cut(line[len("a=rtpmap:"):], " ")
			if ok {
				rtpmap[pt] = strings.ToLower(enc)
			}
		}
	}
	if !ip.IsValid() || port <= 0 || port > 65535 {
		return o, errors.New("no audio address")
	}
	o.Remote = netip.AddrPortFrom(ip.Unmap(), uint16(port))
	for _, f := range formats {
		enc := rtpmap[f]
		switch {
		case o.AudioPT < 0 && (f == "0" || strings.HasPrefix(enc, "pcmu/")):
			o.AudioPT = 0
		case o.AudioPT < 0 && (f == "8" || strings.HasPrefix(enc, "pcma/")):
			o.AudioPT = 8
		case strings.HasPrefix(enc, "telephone-event/8000"):
			o.EventPT, _ = strconv.Atoi(f)
		}
	}
	if o.AudioPT < 0 {
		return o, errors.New("no PCMU or PCMA")
	}
	return o, nil
}

func answerSDP(local netip.AddrPort, o Media) []byte {
	codec := map[int]string{0: "PCMU/8000", 8: "PCMA/8000"}[o.AudioPT]
	fmts := strconv.Itoa(o.AudioPT)
	ev := ""
	if o.EventPT >= 0 {
		fmts += " " + strconv.Itoa(o.EventPT)
		ev = fmt.Sprintf("a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-16\r\n", o.EventPT, o.EventPT)
	}
	ip := local.Addr().String()
	return fmt.Appendf(nil, "v=0\r\no=echo 1 1 IN IP4 %s\r\ns=echo\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %d RTP/AVP %s\r\na=rtpmap:%d %s\r\n%sa=ptime:20\r\na=sendrecv\r\n",
		ip, ip, local.Port(), fmts, o.AudioPT, codec, ev)
}

// call is one answered call.
type call struct {
	ctx    context.Context
	conn   *net.UDPConn
	remote netip.AddrPort
	o      Media
	pacer  *vrtp.Pacer
	echo   chan []byte // caller frames to send back (echo calls)

	// Key presses not yet consumed, and a signal for each new one.
	mu     sync.Mutex
	digits []rune
	sig    chan struct{}
}

func (c *call) push(d rune) {
	c.mu.Lock()
	c.digits = append(c.digits, d)
	c.mu.Unlock()
	select {
	case c.sig <- struct{}{}:
	default:
	}
}

func (c *call) pending() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.digits) > 0
}

func (c *call) pop() (rune, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.digits) == 0 {
		return 0, false
	}
	d := c.digits[0]
	c.digits = c.digits[1:]
	return d, true
}

func (s *Server) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if s.closed.Load() {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusServiceUnavailable, "Service Unavailable", nil))
		return
	}
	s.calls.Add(1)
	defer s.calls.Done()
	dlg, err := s.dialog.ReadInvite(req, tx)
	if err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Bad Request", nil))
		return
	}
	defer dlg.Close()
	conn, o, ok := s.answer(req, dlg)
	if !ok {
		return
	}
	defer conn.Close()
	s.live.Add(1)
	defer s.live.Add(-1)
	if s.cfg.OnAnswer != nil {
		s.cfg.OnAnswer()
	}
	s.serveCall(dlg, conn, o, req.Recipient.User)
}

// answer rings and answers an INVITE with its own RTP socket; false when
// the call could not be answered (a failure response was sent, if any).
func (s *Server) answer(req *sip.Request, dlg *sipgo.DialogServerSession) (*net.UDPConn, Media, bool) {
	o, err := ParseSDP(req.Body())
	if err != nil {
		_ = dlg.Respond(sip.StatusNotAcceptableHere, "Not Acceptable Here", nil)
		return nil, o, false
	}
	_ = dlg.Respond(sip.StatusTrying, "Trying", nil)
	_ = dlg.Respond(sip.StatusRinging, "Ringing", nil)
	host, _, _ := net.SplitHostPort(s.cfg.Addr)
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(host)})
	if err != nil {
		_ = dlg.Respond(sip.StatusInternalServerError, "Server Internal Error", nil)
		return nil, o, false
	}
	local := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	if err := dlg.RespondSDP(answerSDP(local, o)); err != nil {
		conn.Close()
		return nil, o, false
	}
	return conn, o, true
}

// serveCall runs an answered call's media and plays the number's flow (BYE
// when it ends) or echoes the caller, until either side or Close ends it.
func (s *Server) serveCall(dlg *sipgo.DialogServerSession, conn *net.UDPConn, o Media, number string) {
	ctx, cancel := context.WithCancel(dlg.Context())
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel)
	defer stop()
	c, err := newCall(ctx, conn, o)
	if err != nil {
		return
	}
	var media sync.WaitGroup
	media.Add(1)
	go func() { defer media.Done(); c.readLoop() }()
	leave := pacing().Join(vrtp.Member{Send: c.pacer.Tick})

	if flow, ok := s.cfg.Flows[number]; ok {
		if c.run(flow) {
			byeCtx, byeCancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := dlg.Bye(byeCtx); err != nil {
				s.log.Debug("bye", "error", err)
			}
			byeCancel()
		}
	} else {
		c.pacer.SetSource(c.echoSource())
	}
	<-ctx.Done()
	cancel()
	leave()
	conn.Close()
	media.Wait()
}

// pacing paces every call's pacer on a shared clock, as the voxflow worker
// does (media/sipworker), so the baseline's RTP costs what voxflow's would
// without the rest: no goroutine or timer of its own per call.
var pacing = sync.OnceValue(func() *vrtp.Clock {
	c, err := vrtp.NewClock(20*time.Millisecond, max(4, runtime.GOMAXPROCS(0)))
	if err != nil {
		panic(err) // a constant, positive period
	}
	return c
})

// newCall is a call sending on conn to o.Remote with its own pacer.
func newCall(ctx context.Context, conn *net.UDPConn, o Media) (*call, error) {
	c := &call{ctx: ctx, conn: conn, remote: o.Remote, o: o, sig: make(chan struct{}, 1), echo: make(chan []byte, 8)}
	evPT := uint8(0)
	if o.EventPT > 0 {
		evPT = uint8(o.EventPT)
	}
	var err error
	c.pacer, err = vrtp.NewPacer(vrtp.PacerConfig{PayloadType: uint8(o.AudioPT), EventPayloadType: evPT}, func(pkt []byte) error {
		_, err := conn.WriteToUDPAddrPort(pkt, c.remote)
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// echoSource sends the caller's frames back, nothing when none is queued.
func (c *call) echoSource() vrtp.FrameSource {
	return vrtp.FrameSourceFunc(func() ([]byte, bool) {
		select {
		case f := <-c.echo:
			return f, true
		default:
			return nil, false
		}
	})
}

// run walks the flow; it reports whether the server should send BYE (false
// when the caller left first).
func (c *call) run(f Flow) bool {
	id := f.Entry
	for steps := 0; steps < 1000; steps++ {
		n, ok := f.Nodes[id]
		if !ok {
			return true
		}
		if n.Options == nil {
			if !c.play(n.Prompt, false) {
				return false
			}
			if n.Next == "" {
				return true
			}
			id = n.Next
			continue
		}
		if !c.play(n.Prompt, true) {
			return false
		}
		timeout := n.Timeout
		if timeout == 0 {
			timeout = 5 * time.Second
		}
		d, ok := c.waitDigit(timeout)
		if c.ctx.Err() != nil {
			return false
		}
		id = n.OnFailure
		if next, found := n.Options[d]; ok && found {
			id = next
		}
	}
	return true
}

// waitDigit takes the next key press, waiting up to timeout.
func (c *call) waitDigit(timeout time.Duration) (rune, bool) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		if d, ok := c.pop(); ok {
			return d, true
		}
		select {
		case <-c.sig:
		case <-t.C:
			return 0, false
		case <-c.ctx.Done():
			return 0, false
		}
	}
}

// play sends a prompt; with bargeIn a queued or arriving key press stops it
// (the key stays queued). False when the call ended.
func (c *call) play(pcm []int16, bargeIn bool) bool {
	if bargeIn && c.pending() {
		return true
	}
	src := vrtp.NewPCMSource(pcm, c.o.AudioPT == 8)
	c.pacer.SetSource(src)
	defer c.pacer.SetSource(nil)
	var keys <-chan struct{}
	if bargeIn {
		keys = c.sig
	}
	for {
		select {
		case <-src.Done():
			return true
		case <-keys:
			// waitDigit pops before it waits: taking the signal loses no key.
			if c.pending() {
				return true
			}
		case <-c.ctx.Done():
			return false
		}
	}
}

// readLoop reads the caller's RTP: telephone-events become digits, audio is
// decoded (and queued back for echo calls).
func (c *call) readLoop() {
	var events *vrtp.EventReceiver
	if c.o.EventPT >= 0 {
		events = vrtp.NewEventReceiver(uint8(c.o.EventPT))
	}
	buf := make([]byte, 1500)
	pcm := make([]int16, 1500)
	for {
		n, from, err := c.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		if n < 12 || from.Addr().Unmap() != c.remote.Addr() {
			continue
		}
		pt := int(buf[1] & 0x7f)
		switch {
		case events != nil && pt == c.o.EventPT:
			if d, ok, err := events.PushRaw(buf[:n]); err == nil && ok {
				c.push(d.Key)
			}
		case pt == c.o.AudioPT:
			hdr := 12 + 4*int(buf[0]&0x0f)
			if hdr > n {
				continue
			}
			payload := buf[hdr:n]
			if c.o.AudioPT == 8 {
				g711.DecodeALaw(pcm, payload)
			} else {
				g711.DecodeULaw(pcm, payload)
			}
			select {
			case c.echo <- append([]byte(nil), payload...):
			default:
			}
		}
	}
}

// Tone is d of a sine at freq Hz, 8 kHz PCM, starting at phase 0: the
// benchmarks' prompts (each prompt its own frequency, so a listener can tell
// which one starts from its first frame).
func Tone(freq float64, d time.Duration) []int16 {
	out := make([]int16, int(d.Seconds()*8000))
	for i := range out {
		out[i] = int16(6000 * math.Sin(2*math.Pi*freq*float64(i)/8000))
	}
	return out
}

// FirstFrameULaw is the PCMU payload of a prompt's first 20 ms frame.
func FirstFrameULaw(pcm []int16) []byte {
	var frame [FrameSamples]int16
	copy(frame[:], pcm)
	out := make([]byte, FrameSamples)
	g711.EncodeULaw(out, frame[:])
	return out
}

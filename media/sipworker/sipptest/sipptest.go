// Package sipptest drives real SIP peers on loopback for tests: SIPp
// (Debian package sip-tester) scenarios and a headless baresip softphone.
package sipptest

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Need skips the test when SIPp is not installed (outside scripts/test,
// which installs it).
func Need(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("sipp")
	if err != nil {
		t.Fatal("sipp is not installed: run scripts/test, which installs the sip-tester package (or apt-get install -y sip-tester)")
	}
	return path
}

// Scenario returns the path of a scenario under bench/sipp of the module.
func Scenario(t testing.TB, name string) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	p := filepath.Join(filepath.Dir(file), "..", "..", "..", "bench", "sipp", name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("scenario %s: %v", name, err)
	}
	return p
}

// FreePort returns a port free on 127.0.0.1 for both UDP and TCP.
func FreePort(t testing.TB) int {
	t.Helper()
	for range 50 {
		u, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		u.Close()
		if err != nil {
			continue
		}
		l.Close()
		return port
	}
	t.Fatal("no free port")
	return 0
}

// FreeUDPPair returns an even UDP port whose successor is free too (RTP and RTCP).
func FreeUDPPair(t testing.TB) int {
	t.Helper()
	for range 100 {
		u, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := u.LocalAddr().(*net.UDPAddr).Port &^ 1
		u.Close()
		a, err1 := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port))
		b, err2 := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port+1))
		if a != nil {
			a.Close()
		}
		if b != nil {
			b.Close()
		}
		if err1 == nil && err2 == nil {
			return port
		}
	}
	t.Fatal("no free UDP port pair")
	return 0
}

// Call is one SIPp run.
type Call struct {
	Scenario string // path of the XML
	// Target is the host:port of the SIP endpoint; empty runs SIPp as a
	// UAS (it waits for a call on Port).
	Target string
	// Port is SIPp's SIP port (default: a free one).
	Port int
	// Args are extra SIPp arguments (e.g. "-rtp_echo").
	Args    []string
	Service string // [service]: the dialled number
	TCP     bool
	Timeout time.Duration // whole run (default 30s)
	// Files are written to SIPp's working directory first (pcaps a
	// scenario plays by relative path).
	Files map[string][]byte
}

// Result is how SIPp ended.
type Result struct {
	Err    error  // nil when the scenario passed
	Output string // SIPp's output and its error and message traces
}

// Run runs the scenario once (one call) and returns when SIPp exits.
func Run(t testing.TB, c Call) Result {
	t.Helper()
	return Start(t, c)()
}

// Start starts the scenario in the background; wait returns its result.
func Start(t testing.TB, c Call) (wait func() Result) {
	t.Helper()
	bin := Need(t)
	if c.Timeout == 0 {
		c.Timeout = 30 * time.Second
	}
	dir := t.TempDir()
	for name, b := range c.Files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	port := c.Port
	if port == 0 {
		port = FreePort(t)
	}
	media := FreeUDPPair(t)
	var args []string
	if c.Target != "" {
		args = append(args, c.Target)
	}
	args = append(args, "-sf", c.Scenario, "-m", "1", "-l", "1",
		"-i", "127.0.0.1", "-p", strconv.Itoa(port), "-mp", strconv.Itoa(media),
		"-timeout", strconv.Itoa(int(c.Timeout.Seconds()))+"s", "-timeout_error",
		"-trace_err", "-error_file", filepath.Join(dir, "err.log"),
		"-trace_msg", "-message_file", filepath.Join(dir, "msg.log"),
		"-nostdin")
	args = append(args, c.Args...)
	if c.Service != "" {
		args = append(args, "-s", c.Service)
	}
	if c.TCP {
		args = append(args, "-t", "t1")
	}
	ch := make(chan Result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), c.Timeout+10*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Dir = dir
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.Env = append(os.Environ(), "TERM=dumb")
		err := cmd.Run()
		for _, f := range []string{"err.log", "msg.log"} {
			if b, rerr := os.ReadFile(filepath.Join(dir, f)); rerr == nil && len(b) > 0 {
				fmt.Fprintf(&out, "\n--- %s ---\n%s", f, b)
			}
		}
		if err != nil {
			err = fmt.Errorf("sipp %s: %w", filepath.Base(c.Scenario), err)
		}
		ch <- Result{Err: err, Output: out.String()}
	}()
	var res *Result
	return func() Result {
		if res == nil {
			r := <-ch
			res = &r
		}
		return *res
	}
}

// RTPPcap wraps RTP packets, sent every interval, in a pcap file (Ethernet,
// IPv4, UDP) that SIPp's play_pcap_audio replays.
func RTPPcap(packets [][]byte, interval time.Duration) []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	hdr := make([]byte, 24)
	le.PutUint32(hdr[0:], 0xa1b2c3d4)
	le.PutUint16(hdr[4:], 2)
	le.PutUint16(hdr[6:], 4)
	le.PutUint32(hdr[16:], 65535)
	le.PutUint32(hdr[20:], 1) // Ethernet
	b.Write(hdr)
	start := time.Unix(1700000000, 0)
	for i, rtp := range packets {
		frame := make([]byte, 14+20+8+len(rtp))
		binary.BigEndian.PutUint16(frame[12:], 0x0800)
		ip := frame[14:]
		ip[0], ip[8], ip[9] = 0x45, 64, 17
		binary.BigEndian.PutUint16(ip[2:], uint16(20+8+len(rtp)))
		copy(ip[12:], []byte{127, 0, 0, 1})
		copy(ip[16:], []byte{127, 0, 0, 1})
		udp := ip[20:]
		binary.BigEndian.PutUint16(udp[0:], 6000)
		binary.BigEndian.PutUint16(udp[2:], 6002)
		binary.BigEndian.PutUint16(udp[4:], uint16(8+len(rtp)))
		copy(udp[8:], rtp)
		at := start.Add(time.Duration(i) * interval)
		rec := make([]byte, 16)
		le.PutUint32(rec[0:], uint32(at.Unix()))
		le.PutUint32(rec[4:], uint32(at.Nanosecond()/1000))
		le.PutUint32(rec[8:], uint32(len(frame)))
		le.PutUint32(rec[12:], uint32(len(frame)))
		b.Write(rec)
		b.Write(frame)
	}
	return b.Bytes()
}

// Baresip is a headless baresip softphone driven through its UDP console.
type Baresip struct {
	t       testing.TB
	dir     string
	cmd     *exec.Cmd
	console *net.UDPAddr
	out     *syncBuffer
	done    chan struct{}
}

// syncBuffer is a bytes.Buffer safe for the process writer and readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// StartBaresip runs baresip on loopback (no registration, PCMU/PCMA,
// silence as its microphone, no sound card) and waits until it is ready.
// It is stopped when the test ends. An account line, when given, replaces
// the default one (e.g. "<sip:alice@127.0.0.1:5060>;auth_pass=PW;regint=60"
// to register).
func StartBaresip(t testing.TB, account ...string) *Baresip {
	t.Helper()
	return StartBaresipWith(t, BaresipOptions{Accounts: account})
}

// BaresipOptions change StartBaresip's defaults.
type BaresipOptions struct {
	// Accounts replace the default account line.
	Accounts []string
	// Modules replace g711.so: the codecs and audio filters to load, e.g.
	// "opus.so", "sndfile.so" (from /usr/lib/baresip/modules).
	Modules []string
	// AudioSource replaces the silent WAV microphone, e.g. "ausine,1000"
	// (ausine.so must be in Modules).
	AudioSource string
	// Config lines appended to the config file, e.g. "snd_path "+b.Dir().
	Config []string
}

// StartBaresipWith is StartBaresip with options.
func StartBaresipWith(t testing.TB, o BaresipOptions) *Baresip {
	t.Helper()
	bin, err := exec.LookPath("baresip")
	if err != nil {
		t.Fatal("baresip is not installed: run scripts/test, which installs it (or apt-get install -y baresip)")
	}
	dir := t.TempDir()
	silence := filepath.Join(dir, "silence.wav")
	if err := os.WriteFile(silence, silentWAV(10*time.Second), 0o644); err != nil {
		t.Fatal(err)
	}
	accounts := "<sip:baresip@127.0.0.1>;regint=0\n"
	if len(o.Accounts) > 0 {
		accounts = strings.Join(o.Accounts, "\n") + "\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "accounts"), []byte(accounts), 0o644); err != nil {
		t.Fatal(err)
	}
	// Its ports are picked free but bound later (its TLS transport binds
	// one more): another process may take one meanwhile, so try again.
	for attempt := 1; ; attempt++ {
		b := launchBaresip(t, bin, dir, silence, o)
		if b.WaitOutput("baresip is ready", 10*time.Second) {
			return b
		}
		if attempt == 3 || !strings.Contains(b.Output(), "Address already in use") {
			t.Fatalf("baresip did not start:\n%s", b.Output())
		}
		b.Close()
	}
}

// launchBaresip writes baresip's config on fresh ports and starts it.
func launchBaresip(t testing.TB, bin, dir, silence string, o BaresipOptions) *Baresip {
	t.Helper()
	sipPort, consPort := FreePort(t), FreePort(t)
	source := "aufile," + silence
	if o.AudioSource != "" {
		source = o.AudioSource
	}
	modules := "module g711.so\n"
	if len(o.Modules) > 0 {
		modules = "module " + strings.Join(o.Modules, "\nmodule ") + "\n"
	}
	config := fmt.Sprintf(`poll_method epoll
sip_listen 127.0.0.1:%d
audio_player aufile,%s
audio_source %s
audio_alert aufile,%s
module_path /usr/lib/baresip/modules
%smodule aufile.so
module cons.so
module_app account.so
module_app menu.so
cons_listen 127.0.0.1:%d
`, sipPort, filepath.Join(dir, "heard.wav"), source, filepath.Join(dir, "alert.wav"), modules, consPort)
	if len(o.Config) > 0 {
		config += strings.Join(o.Config, "\n") + "\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	b := &Baresip{t: t, dir: dir, out: &syncBuffer{}, done: make(chan struct{}),
		console: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: consPort}}
	b.cmd = exec.Command(bin, "-f", dir)
	b.cmd.Dir = dir
	b.cmd.Stdout, b.cmd.Stderr = b.out, b.out
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = b.cmd.Wait()
		close(b.done)
	}()
	t.Cleanup(b.Close)
	return b
}

// Command sends one console command, e.g. "/dial sip:1000@127.0.0.1:5060".
func (b *Baresip) Command(cmd string) {
	b.t.Helper()
	conn, err := net.DialUDP("udp", nil, b.console)
	if err != nil {
		b.t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(cmd + "\n")); err != nil {
		b.t.Fatal(err)
	}
}

// WaitOutput waits for text in baresip's output.
func (b *Baresip) WaitOutput(text string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if strings.Contains(b.out.String(), text) {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// Dir is baresip's configuration directory (a temporary directory of the
// test), where files it writes can be put.
func (b *Baresip) Dir() string { return b.dir }

// Output is what baresip printed so far.
func (b *Baresip) Output() string { return b.out.String() }

// Close stops baresip.
func (b *Baresip) Close() {
	select {
	case <-b.done:
		return
	default:
	}
	_ = b.cmd.Process.Signal(os.Interrupt)
	select {
	case <-b.done:
	case <-time.After(3 * time.Second):
		_ = b.cmd.Process.Kill()
		<-b.done
	}
}

// silentWAV is d of 8 kHz mono 16-bit silence.
func silentWAV(d time.Duration) []byte {
	n := int(d.Seconds() * 8000)
	var b bytes.Buffer
	le := binary.LittleEndian
	b.WriteString("RIFF")
	_ = binary.Write(&b, le, uint32(36+2*n))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(8000), uint32(16000), uint16(2), uint16(16)} {
		_ = binary.Write(&b, le, v)
	}
	b.WriteString("data")
	_ = binary.Write(&b, le, uint32(2*n))
	b.Write(make([]byte, 2*n))
	return b.Bytes()
}

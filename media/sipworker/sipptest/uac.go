package sipptest

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// UAC is a small scripted SIP caller (UDP or TLS) for what SIPp cannot do
// here: TLS (Debian's sip-tester is built without OpenSSL) and timing the
// RTP that arrives between two SIP messages. It offers PCMU with
// telephone-event from its own RTP socket, answers the requests it
// receives (BYE, NOTIFY, ...) with 200 and hands every message to the test.
type UAC struct {
	t        testing.TB
	target   string // host:port of the SIP server
	tls      bool
	udp      net.PacketConn
	dst      net.Addr
	stream   net.Conn
	local    string // our host:port in Via and Contact
	From     string // caller number (user part of From)
	CallID   string
	fromTag  string
	toTag    string
	cseq     int
	invite   string // branch of the initial INVITE
	remote   string // Request-URI of in-dialog requests (the 2xx Contact)
	number   string
	msgs     chan sip.Message
	done     chan struct{}
	closing  sync.Once
	rtp      *net.UDPConn
	rtpMu    sync.Mutex
	arrivals []time.Time
}

// UACConfig says where a UAC calls.
type UACConfig struct {
	Target string      // host:port
	TLS    *tls.Config // non-nil: SIP over TLS to Target
	From   string      // caller number (default +15550199)
}

// NewUAC opens the SIP connection (TLS handshake included) and the RTP socket.
func NewUAC(t testing.TB, cfg UACConfig) *UAC {
	t.Helper()
	u := &UAC{t: t, target: cfg.Target, tls: cfg.TLS != nil, From: cfg.From,
		msgs: make(chan sip.Message, 64), done: make(chan struct{}),
		CallID: "uac-" + strconv.FormatInt(time.Now().UnixNano(), 36), fromTag: "uac" + strconv.FormatInt(time.Now().UnixNano()%1e6, 10)}
	if u.From == "" {
		u.From = "+15550199"
	}
	var err error
	if u.tls {
		d := &net.Dialer{Timeout: 5 * time.Second}
		u.stream, err = tls.DialWithDialer(d, "tcp", cfg.Target, cfg.TLS)
		if err != nil {
			t.Fatalf("uac: TLS connect to %s: %v", cfg.Target, err)
		}
		u.local = u.stream.LocalAddr().String()
	} else {
		u.udp, err = net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		u.dst, err = net.ResolveUDPAddr("udp", cfg.Target)
		if err != nil {
			t.Fatal(err)
		}
		u.local = u.udp.LocalAddr().String()
	}
	u.rtp, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	go u.readSIP()
	go u.readRTP()
	t.Cleanup(u.Close)
	return u
}

// Close releases the sockets.
func (u *UAC) Close() {
	u.closing.Do(func() {
		close(u.done)
		if u.stream != nil {
			u.stream.Close()
		}
		if u.udp != nil {
			u.udp.Close()
		}
		u.rtp.Close()
	})
}

// RTPPort is where the UAC receives RTP.
func (u *UAC) RTPPort() int { return u.rtp.LocalAddr().(*net.UDPAddr).Port }

// RTPArrivals are the arrival times of every RTP packet received so far.
func (u *UAC) RTPArrivals() []time.Time {
	u.rtpMu.Lock()
	defer u.rtpMu.Unlock()
	return append([]time.Time(nil), u.arrivals...)
}

// RTPBetween counts the RTP packets that arrived in [from, to).
func (u *UAC) RTPBetween(from, to time.Time) int {
	n := 0
	for _, at := range u.RTPArrivals() {
		if !at.Before(from) && at.Before(to) {
			n++
		}
	}
	return n
}

func (u *UAC) readRTP() {
	buf := make([]byte, 2048)
	for {
		n, _, err := u.rtp.ReadFrom(buf)
		if err != nil {
			return
		}
		if n >= 12 && buf[0]>>6 == 2 {
			u.rtpMu.Lock()
			u.arrivals = append(u.arrivals, time.Now())
			u.rtpMu.Unlock()
		}
	}
}

func (u *UAC) readSIP() {
	var rd *bufio.Reader
	if u.stream != nil {
		rd = bufio.NewReader(u.stream)
	}
	buf := make([]byte, 65535)
	for {
		var raw []byte
		if rd != nil {
			var err error
			if raw, err = readStreamMessage(rd); err != nil {
				return
			}
		} else {
			n, _, err := u.udp.ReadFrom(buf)
			if err != nil {
				return
			}
			raw = append([]byte(nil), buf[:n]...)
		}
		if len(bytes.TrimSpace(raw)) == 0 {
			continue // keep-alive
		}
		msg, err := sip.ParseMessage(raw)
		if err != nil {
			u.t.Logf("uac: unparsable message: %v\n%s", err, raw)
			continue
		}
		if req, ok := msg.(*sip.Request); ok && !req.IsAck() {
			res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
			u.write(res.String())
		}
		select {
		case u.msgs <- msg:
		case <-u.done:
			return
		}
	}
}

// readStreamMessage reads one SIP message framed by Content-Length.
func readStreamMessage(rd *bufio.Reader) ([]byte, error) {
	var head bytes.Buffer
	length := 0
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			return nil, err
		}
		if head.Len() == 0 && strings.TrimSpace(line) == "" {
			continue // CRLF keep-alive
		}
		head.WriteString(line)
		if strings.TrimSpace(line) == "" {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if ok && (strings.EqualFold(strings.TrimSpace(name), "Content-Length") || strings.TrimSpace(name) == "l") {
			length, _ = strconv.Atoi(strings.TrimSpace(value))
		}
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(rd, body); err != nil {
		return nil, err
	}
	return append(head.Bytes(), body...), nil
}

func (u *UAC) write(msg string) {
	var err error
	if u.stream != nil {
		_, err = u.stream.Write([]byte(msg))
	} else {
		_, err = u.udp.WriteTo([]byte(msg), u.dst)
	}
	if err != nil && !errors.Is(err, net.ErrClosed) {
		u.t.Errorf("uac: send: %v", err)
	}
}

func (u *UAC) transport() string {
	if u.tls {
		return "TLS"
	}
	return "UDP"
}

func (u *UAC) scheme() string {
	if u.tls {
		return "sips"
	}
	return "sip"
}

// SDP is an offer of PCMU and telephone-event on the UAC's RTP port with
// the given direction (sendrecv, sendonly, inactive).
func (u *UAC) SDP(direction string, version int) string {
	return strings.Join([]string{
		"v=0",
		"o=uac 4242 " + strconv.Itoa(version) + " IN IP4 127.0.0.1",
		"s=-",
		"c=IN IP4 127.0.0.1",
		"t=0 0",
		"m=audio " + strconv.Itoa(u.RTPPort()) + " RTP/AVP 0 101",
		"a=rtpmap:0 PCMU/8000",
		"a=rtpmap:101 telephone-event/8000",
		"a=fmtp:101 0-15",
		"a=" + direction,
	}, "\r\n") + "\r\n"
}

func (u *UAC) request(method, ruri, branch string, cseq int, method2 string, extra []string, body, ctype string) string {
	to := "To: <" + u.scheme() + ":" + u.number + "@" + u.target + ">"
	if u.toTag != "" {
		to += ";tag=" + u.toTag
	}
	lines := []string{
		method + " " + ruri + " SIP/2.0",
		"Via: SIP/2.0/" + u.transport() + " " + u.local + ";rport;branch=" + branch,
		"From: <" + u.scheme() + ":" + u.From + "@" + u.local + ">;tag=" + u.fromTag,
		to,
		"Call-ID: " + u.CallID,
		"CSeq: " + strconv.Itoa(cseq) + " " + method2,
		"Contact: <" + u.scheme() + ":uac@" + u.local + ";transport=" + strings.ToLower(u.transport()) + ">",
		"Max-Forwards: 70",
	}
	lines = append(lines, extra...)
	if body != "" {
		lines = append(lines, "Content-Type: "+ctype)
	}
	lines = append(lines, "Content-Length: "+strconv.Itoa(len(body)))
	return strings.Join(lines, "\r\n") + "\r\n\r\n" + body
}

func newBranch() string {
	return "z9hG4bK-uac" + strconv.FormatInt(time.Now().UnixNano(), 36)
}

// Invite calls number with an SDP offer (sendrecv).
func (u *UAC) Invite(number string) {
	u.number = number
	u.cseq = 1
	u.invite = newBranch()
	u.write(u.request("INVITE", u.scheme()+":"+number+"@"+u.target, u.invite, 1, "INVITE", nil, u.SDP("sendrecv", 1), "application/sdp"))
}

// Next returns the next message received within timeout, or nil.
func (u *UAC) Next(timeout time.Duration) sip.Message {
	select {
	case m := <-u.msgs:
		return m
	case <-time.After(timeout):
		return nil
	}
}

// Response waits for the next response to method with a code other than
// 100 (retransmissions of one already seen are skipped) and records the
// dialog's To tag and remote target from it.
func (u *UAC) Response(method string, timeout time.Duration) *sip.Response {
	u.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		m := u.Next(time.Until(deadline))
		if m == nil {
			u.t.Fatalf("uac: no response to %s within %v", method, timeout)
		}
		res, ok := m.(*sip.Response)
		if !ok || res.CSeq() == nil || res.CSeq().MethodName != sip.RequestMethod(method) || res.StatusCode == 100 {
			continue
		}
		if res.CSeq().SeqNo != uint32(u.cseq) && method != "BYE" {
			continue // a retransmission of an earlier transaction's response
		}
		if to := res.To(); to != nil && to.Params != nil {
			if tag, ok := to.Params.Get("tag"); ok && tag != "" {
				u.toTag = tag
			}
		}
		if c := res.Contact(); c != nil && res.IsSuccess() {
			u.remote = c.Address.String()
		}
		return res
	}
}

// Request waits for a request of method from the server (already answered 200).
func (u *UAC) Request(method string, timeout time.Duration) *sip.Request {
	u.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		m := u.Next(time.Until(deadline))
		if m == nil {
			u.t.Fatalf("uac: no %s within %v", method, timeout)
		}
		if req, ok := m.(*sip.Request); ok && req.Method == sip.RequestMethod(method) {
			return req
		}
	}
}

// Ack acknowledges the final response to the INVITE numbered cseq: a 2xx
// in a new transaction to the remote target, anything else hop by hop in
// the INVITE's transaction.
func (u *UAC) Ack(res *sip.Response) {
	seq := int(res.CSeq().SeqNo)
	if res.IsSuccess() {
		u.write(u.request("ACK", u.remote, newBranch(), seq, "ACK", nil, "", ""))
		return
	}
	u.write(u.request("ACK", u.scheme()+":"+u.number+"@"+u.target, u.invite, seq, "ACK", nil, "", ""))
}

// ReInvite sends a re-INVITE in the dialog offering direction.
func (u *UAC) ReInvite(direction string) {
	u.cseq++
	u.write(u.request("INVITE", u.remote, newBranch(), u.cseq, "INVITE", nil, u.SDP(direction, u.cseq), "application/sdp"))
}

// Info sends a key press as SIP INFO application/dtmf-relay.
func (u *UAC) Info(key rune) {
	u.cseq++
	u.write(u.request("INFO", u.remote, newBranch(), u.cseq, "INFO", nil,
		"Signal="+string(key)+"\r\nDuration=160\r\n", "application/dtmf-relay"))
}

// Cancel gives up on the INVITE before its final response.
func (u *UAC) Cancel() {
	tag := u.toTag
	u.toTag = "" // the To of the INVITE
	defer func() { u.toTag = tag }()
	u.write(u.request("CANCEL", u.scheme()+":"+u.number+"@"+u.target, u.invite, 1, "CANCEL", nil, "", ""))
}

// Bye hangs up.
func (u *UAC) Bye() {
	u.cseq++
	u.write(u.request("BYE", u.remote, newBranch(), u.cseq, "BYE", nil, "", ""))
}

// Describe is a one-line summary of a message for failures.
func Describe(m sip.Message) string {
	switch m := m.(type) {
	case *sip.Response:
		return fmt.Sprintf("%d %s (%s)", m.StatusCode, m.Reason, m.CSeq().Value())
	case *sip.Request:
		return m.StartLine()
	}
	return "<nil>"
}

package e2e

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tortureCase is one message sent to a running worker and what it must
// answer. want is a status code ("404"), a class ("4xx"), "none" (the
// message is dropped: unparseable, a stray response, or a request sipgo
// does not hand us) or "any" (answered or not, the worker must live);
// tcp, when set, is the answer over TCP where it differs.
type tortureCase struct {
	name, want, tcp string
	why             string
}

// rfc4475 are RFC 4475 section 3's messages (e2e/testdata/torture, one
// file each, hosts and the top Via rewritten to reach this test) and what
// the worker answers. Dialled users have no flow, so a valid INVITE that
// reaches our code gets 404 from the route look-up.
var rfc4475 = []tortureCase{
	// 3.1.1 valid messages
	{"wsinv", "488", "", "valid; parsed, our SDP check refuses the offer (it has a video stream)"},
	{"intmeth", "405", "", "valid; unknown method with odd characters: not allowed"},
	{"esc01", "488", "", "valid; escaped URIs parsed, same offer as wsinv: 488"},
	{"escnull", "405", "", "valid; REGISTER with %00 (registrar off: 405)"},
	{"esc02", "405", "", "valid; a method name with % is an unknown method"},
	{"lwsdisp", "200", "", "valid; no LWS before <"},
	{"longreq", "none", "488", "valid; over UDP the (long) reply is not sent, over TCP 488 as wsinv"},
	{"dblreq", "405", "4xx", "valid; UDP: the REGISTER only, trailing octets ignored; TCP: the INVITE after it is a second request (400, no Contact) and may answer first"},
	{"semiuri", "200", "", "valid; ; in the user part"},
	{"transports", "200", "", "valid; unknown transports in lower Vias"},
	{"mpart01", "405", "", "valid; multipart MESSAGE (we take no MESSAGE)"},
	{"unreason", "none", "", "valid response, no transaction: dropped"},
	{"noreason", "none", "", "valid response, empty reason, no transaction: dropped"},
	// 3.1.2 invalid messages
	{"badinv01", "none", "", "invalid; empty Via params: sipgo does not parse it, dropped"},
	{"clerr", "none", "", "invalid; Content-Length past the end: dropped (TCP waits for the rest)"},
	{"ncl", "none", "", "invalid; negative Content-Length: dropped"},
	{"scalar02", "405", "", "invalid scalars in a REGISTER: 405 before they matter (RFC: 400)"},
	{"scalarlg", "none", "", "invalid response, no transaction: dropped"},
	{"quotbal", "none", "", "invalid; unterminated quote: dropped"},
	{"ltgtruri", "none", "", "invalid; <> around the Request-URI: dropped"},
	{"lwsruri", "none", "", "invalid; LWS in the Request-URI: dropped"},
	{"lwsstart", "none", "", "invalid; several SP in the Request-Line: dropped"},
	{"trws", "none", "", "invalid; SP after the Request-Line: dropped"},
	{"escruri", "404", "", "invalid per RFC (should be 400), parsed: routed and refused"},
	{"baddate", "404", "", "invalid Date, which we ignore (RFC allows): routed and refused"},
	{"regbadct", "405", "", "invalid Contact in a REGISTER: 405 (registrar off)"},
	{"badaspec", "none", "", "invalid; spaces in the addr-spec: dropped"},
	{"baddn", "200", "", "invalid display name, tolerated by sipgo: OPTIONS answered"},
	{"badvers", "none", "", "SIP/7.0: dropped (RFC: 505)"},
	{"mismatch01", "200", "", "CSeq method INVITE on OPTIONS, tolerated (RFC: 400)"},
	{"mismatch02", "405", "", "NEWMETHOD: 405 (RFC: 501 or 400)"},
	{"bigcode", "none", "", "invalid response, status 4294967301: dropped"},
	// 3.2 transaction layer
	{"badbranch", "200", "", "branch of only the magic cookie: answered"},
	// 3.3 application layer
	{"insuf", "400", "", "INVITE missing To, From, Call-ID: 400 from our screen"},
	{"unkscm", "200", "", "unknown Request-URI scheme on OPTIONS: answered (RFC: 416)"},
	{"novelsc", "none", "", "soap.beep Request-URI: sipgo does not parse it, dropped (RFC: 416)"},
	{"unksm2", "405", "", "unknown URI schemes in a REGISTER: 405"},
	{"bext01", "200", "", "Require of unknown extensions on OPTIONS: answered (RFC: 420)"},
	{"invut", "415", "", "INVITE with an unknown body type: 415 with Accept"},
	{"regaut01", "405", "", "unknown Authorization scheme on REGISTER: 405"},
	{"multi01", "404", "", "several To, From, Call-ID, CSeq: the first taken, routed (RFC: 400)"},
	{"mcl01", "200", "none", "two Content-Length values: UDP answered (RFC: 400), TCP cannot frame it: dropped"},
	{"zeromf", "200", "", "Max-Forwards 0 on OPTIONS to us: answered, as the RFC allows"},
	{"cparam01", "405", "", "REGISTER, registrar off"},
	{"cparam02", "405", "", "REGISTER, registrar off"},
	{"regescrt", "405", "", "REGISTER, registrar off"},
	{"sdp01", "404", "", "Accept of nothing we send: routed and refused (RFC: 406 once answering)"},
	{"inv2543", "400", "none", "RFC 2543 INVITE: UDP 400 (no Contact); TCP has no Content-Length to frame it: dropped"},
	{"bcast", "none", "", "response with a broadcast Via: dropped, never sent to 255.255.255.255"},
}

// tortureMessage reads a fixture and fills it in: LF lines become CRLF,
// <hex>..</hex> and <repeat count=N>..</repeat> are expanded (RFC 4475
// section 2), %LEN% is the body's length and %TRANSPORT%, %VIA%, %ID% name
// this test's socket.
func tortureMessage(t *testing.T, name, transport, via string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "torture", name+".sip"))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(string(raw), "\n", "\r\n")
	s = regexp.MustCompile(`<repeat count=(\d+)>(.*?)</repeat>`).ReplaceAllStringFunc(s, func(m string) string {
		p := regexp.MustCompile(`<repeat count=(\d+)>(.*?)</repeat>`).FindStringSubmatch(m)
		n, _ := strconv.Atoi(p[1])
		return strings.Repeat(p[2], n)
	})
	s = regexp.MustCompile(`<hex>([0-9A-Fa-f]*)</hex>`).ReplaceAllStringFunc(s, func(m string) string {
		b, _ := hex.DecodeString(m[5 : len(m)-6])
		return string(b)
	})
	s = strings.NewReplacer("%TRANSPORT%", transport, "%VIA%", via, "%ID%", strconv.FormatInt(time.Now().UnixNano(), 36)).Replace(s)
	if _, body, ok := strings.Cut(s, "\r\n\r\n"); ok {
		s = strings.ReplaceAll(s, "%LEN%", strconv.Itoa(len(body)))
	}
	return []byte(s)
}

// TestSIPTortureRFC4475 sends every RFC 4475 message over UDP and TCP to a
// running worker: it answers each as the table says and answers an
// OPTIONS probe after each.
func TestSIPTortureRFC4475(t *testing.T) {
	_, _, addr := newGuardedSIPStack(t, 0, 0)
	for _, tc := range rfc4475 {
		for _, transport := range []string{"UDP", "TCP"} {
			want := tc.want
			if transport == "TCP" && tc.tcp != "" {
				want = tc.tcp
			}
			t.Run(tc.name+"/"+transport, func(t *testing.T) {
				got := sendRaw(t, addr, transport, func(via string) []byte { return tortureMessage(t, tc.name, transport, via) }, want)
				checkAnswer(t, tc.name+" ("+tc.why+")", got, want)
				checkAlive(t, addr)
			})
		}
	}
}

// crashCases are messages that crashed or hung SIP stacks: the worker
// must drop or refuse them and keep serving.
var crashCases = []struct {
	name, want string
	msg        func(addr, transport, via string) []byte
}{
	{"INVITE without To", "400", func(a, tr, v string) []byte { return invite(a, tr, v, "To") }},
	{"INVITE without From", "400", func(a, tr, v string) []byte { return invite(a, tr, v, "From") }},
	{"INVITE without Call-ID", "400", func(a, tr, v string) []byte { return invite(a, tr, v, "Call-ID") }},
	{"INVITE without CSeq", "400", func(a, tr, v string) []byte { return invite(a, tr, v, "CSeq") }},
	{"INVITE without Via", "400", func(a, tr, v string) []byte { return invite(a, tr, v, "Via") }},
	{"INVITE without Contact", "400", func(a, tr, v string) []byte { return invite(a, tr, v, "Contact") }},
	{"bad Content-Length", "none", func(a, tr, v string) []byte {
		return bytes.Replace(invite(a, tr, v, ""), []byte("Content-Length: 0"), []byte("Content-Length: abc"), 1)
	}},
	{"huge header", "any", func(a, tr, v string) []byte {
		return bytes.Replace(invite(a, tr, v, ""), []byte("Max-Forwards"), []byte("X-Huge: "+strings.Repeat("x", 60000)+"\r\nMax-Forwards"), 1)
	}},
	{"64 KiB datagram", "488", func(a, tr, v string) []byte {
		m := invite(a, tr, v, "")
		return append(m, bytes.Repeat([]byte("A"), 65507-len(m))...)
	}},
	{"garbage bytes", "none", func(a, tr, v string) []byte {
		b := make([]byte, 2048)
		for i := range b {
			b[i] = byte(i*7919 + i>>3)
		}
		return b
	}},
	{"garbage start line", "none", func(a, tr, v string) []byte { return []byte("HELLO WORLD\r\n\r\n") }},
	{"CRLF keepalive", "none", func(a, tr, v string) []byte { return []byte("\r\n\r\n") }},
	{"truncated message", "none", func(a, tr, v string) []byte {
		m := bytes.Replace(invite(a, tr, v, ""), []byte("Content-Length: 0"), []byte("Content-Length: 500"), 1)
		return m[:len(m)-40]
	}},
}

// invite is an INVITE to 4040 (no flow) without the header drop.
func invite(addr, transport, via, drop string) []byte {
	id := strconv.FormatInt(time.Now().UnixNano(), 36)
	var kept []string
	for _, l := range []string{
		"INVITE sip:4040@" + addr + " SIP/2.0",
		"Via: SIP/2.0/" + transport + " " + via + ";rport;branch=z9hG4bK-crash" + id,
		"From: <sip:crash@127.0.0.1>;tag=crash" + id,
		"To: <sip:4040@" + addr + ">",
		"Call-ID: crash-" + id,
		"CSeq: 1 INVITE",
		"Contact: <sip:crash@" + via + ">",
		"Max-Forwards: 70",
		"Content-Length: 0",
	} {
		if drop == "" || !strings.HasPrefix(l, drop+":") {
			kept = append(kept, l)
		}
	}
	return []byte(strings.Join(kept, "\r\n") + "\r\n\r\n")
}

// TestSIPTortureCrashCases sends messages that break SIP stacks over UDP
// and TCP: the worker drops or refuses each and keeps answering probes.
func TestSIPTortureCrashCases(t *testing.T) {
	_, _, addr := newGuardedSIPStack(t, 0, 0)
	for _, tc := range crashCases {
		for _, transport := range []string{"UDP", "TCP"} {
			t.Run(tc.name+"/"+transport, func(t *testing.T) {
				got := sendRaw(t, addr, transport, func(via string) []byte { return tc.msg(addr, transport, via) }, tc.want)
				checkAnswer(t, tc.name, got, tc.want)
				checkAlive(t, addr)
			})
		}
	}
}

// sendRaw sends one message and returns the first final status code
// answered, 0 when none came. It waits long for an expected answer and
// briefly where none is expected.
func sendRaw(t *testing.T, addr, transport string, msg func(via string) []byte, want string) int {
	t.Helper()
	wait := 5 * time.Second
	if want == "none" || want == "any" {
		wait = 1500 * time.Millisecond
	}
	network := strings.ToLower(transport)
	conn, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write(msg(conn.LocalAddr().String())); err != nil {
		t.Logf("write: %v", err) // e.g. a datagram over the limit
		return 0
	}
	_ = conn.SetReadDeadline(time.Now().Add(wait))
	if network == "udp" {
		buf := make([]byte, 65535)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return 0
			}
			if code := finalCode(buf[:n]); code > 0 {
				return code
			}
		}
	}
	r := bufio.NewReader(conn)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return 0
		}
		if code := finalCode([]byte(line)); code > 0 {
			return code
		}
	}
}

// finalCode is the status of a final response's status line, else 0.
func finalCode(b []byte) int {
	var code int
	if _, err := fmt.Sscanf(string(b), "SIP/2.0 %d", &code); err == nil && code >= 200 {
		return code
	}
	return 0
}

func checkAnswer(t *testing.T, what string, got int, want string) {
	t.Helper()
	if os.Getenv("TORTURE_LEARN") != "" {
		t.Logf("LEARN %s: %d", t.Name(), got)
		return
	}
	ok := false
	switch {
	case want == "any":
		ok = true
	case want == "none":
		ok = got == 0
	case strings.HasSuffix(want, "xx"):
		ok = got/100 == int(want[0]-'0')
	default:
		ok = strconv.Itoa(got) == want
	}
	if !ok {
		t.Errorf("%s: answered %d, want %s", what, got, want)
	}
}

// checkAlive: the worker still answers an OPTIONS probe with 200.
func checkAlive(t *testing.T, addr string) {
	t.Helper()
	if res := sipOptions(t, addr); res == nil || res.StatusCode != 200 {
		t.Fatalf("worker does not answer OPTIONS after the message: %v", res)
	}
}

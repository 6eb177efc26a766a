// Command probe sends SIP OPTIONS to a worker every -every for -for and
// says how many were answered and how long the slowest answer took: a
// worker that stalls under a flood shows as lost probes or a long maximum
// (bench/flood).
package main

import (
	"flag"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:5060", "worker SIP address (UDP)")
	every := flag.Duration("every", 100*time.Millisecond, "probe interval")
	dur := flag.Duration("for", 5*time.Second, "how long to probe")
	wait := flag.Duration("timeout", 2*time.Second, "an answer later than this counts as lost")
	flag.Parse()
	var rtts []time.Duration
	sent, non200 := 0, 0
	end := time.Now().Add(*dur)
	for time.Now().Before(end) {
		start := time.Now()
		sent++
		code, err := probe(*addr, *wait)
		switch {
		case err != nil:
		case code != 200:
			non200++
		default:
			rtts = append(rtts, time.Since(start))
		}
		time.Sleep(max(0, *every-time.Since(start)))
	}
	slices.Sort(rtts)
	maxMS, p99MS := 0.0, 0.0
	if n := len(rtts); n > 0 {
		maxMS = float64(rtts[n-1]) / 1e6
		p99MS = float64(rtts[min(n-1, n*99/100)]) / 1e6
	}
	fmt.Printf("probes=%d answered=%d non200=%d lost=%d p99_ms=%.1f max_ms=%.1f\n",
		sent, len(rtts), non200, sent-len(rtts)-non200, p99MS, maxMS)
}

// probe sends one OPTIONS and returns the final status code.
func probe(addr string, wait time.Duration) (int, error) {
	conn, err := net.Dial("udp", addr)
	if err != nil {
		return 0, fmt.Errorf("dial %s: %w", addr, err)
	}
	defer conn.Close()
	local := conn.LocalAddr().String()
	id := strconv.FormatInt(time.Now().UnixNano(), 36)
	msg := strings.Join([]string{
		"OPTIONS sip:" + addr + " SIP/2.0",
		"Via: SIP/2.0/UDP " + local + ";rport;branch=z9hG4bK-flood" + id,
		"From: <sip:probe@" + local + ">;tag=p" + id,
		"To: <sip:" + addr + ">",
		"Call-ID: flood-probe-" + id,
		"CSeq: 1 OPTIONS",
		"Max-Forwards: 70",
		"Content-Length: 0",
	}, "\r\n") + "\r\n\r\n"
	if _, err := conn.Write([]byte(msg)); err != nil {
		return 0, fmt.Errorf("send: %w", err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 65535)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return 0, fmt.Errorf("read: %w", err)
		}
		var code int
		if _, err := fmt.Sscanf(string(buf[:n]), "SIP/2.0 %d", &code); err == nil && code >= 200 {
			return code, nil
		}
	}
}

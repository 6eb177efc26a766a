package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"time"
)

// sipMsg is one message of SIPp's -trace_msg file.
type sipMsg struct {
	at       time.Time
	received bool
	first    string // request or status line
	headers  map[string]string
}

// readSIPMessages parses SIPp's message trace: each message follows a
// "----- 2006-01-02 15:04:05.000000" line and a "... message sent/received"
// line.
func readSIPMessages(path string) ([]sipMsg, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("SIPp messages: %w", err)
	}
	defer f.Close()
	var out []sipMsg
	var cur *sipMsg
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if ts, ok := strings.CutPrefix(line, "----------------------------------------------- "); ok {
			if at, err := time.ParseInLocation("2006-01-02 15:04:05.000000", strings.TrimSpace(ts), time.Local); err == nil {
				out = append(out, sipMsg{at: at, headers: map[string]string{}})
				cur = &out[len(out)-1]
			}
			continue
		}
		switch {
		case cur == nil || line == "":
		case strings.Contains(line, "message received") && cur.first == "":
			cur.received = true
		case strings.Contains(line, "message sent") && cur.first == "":
		case cur.first == "":
			cur.first = line
		default:
			if k, v, ok := strings.Cut(line, ":"); ok && !strings.Contains(k, " ") {
				if _, seen := cur.headers[strings.ToLower(k)]; !seen {
					cur.headers[strings.ToLower(k)] = strings.TrimSpace(v)
				}
			}
		}
	}
	return out, sc.Err()
}

// uriUser is the user part of the first sip: URI in a header or line.
func uriUser(s string) string {
	i := strings.Index(s, "sip:")
	if i < 0 {
		return ""
	}
	s = s[i+4:]
	if j := strings.IndexAny(s, "@>;"); j >= 0 && s[j] == '@' {
		return s[:j]
	}
	return ""
}

// sipView is what the checks need from the trace.
type sipView struct {
	// answered: caller -> when their call got its 200 (SIPp's calls).
	answered map[string]time.Time
	// invited: Call-ID -> when SIPp first sent its INVITE.
	invited map[string]time.Time
	// callbacks: caller -> each callback INVITE (by Call-ID) and when it came.
	callbacks map[string]map[string]time.Time
	// answers are the 200s to SIPp's INVITEs, in order: (sent, answered).
	answers [][2]time.Time
}

func viewSIP(msgs []sipMsg) sipView {
	v := sipView{answered: map[string]time.Time{}, invited: map[string]time.Time{}, callbacks: map[string]map[string]time.Time{}}
	for _, m := range msgs {
		id := m.headers["call-id"]
		switch {
		case !m.received && strings.HasPrefix(m.first, "INVITE "):
			if _, ok := v.invited[id]; !ok {
				v.invited[id] = m.at
			}
		case m.received && strings.HasPrefix(m.first, "INVITE "):
			caller := uriUser(m.first)
			if v.callbacks[caller] == nil {
				v.callbacks[caller] = map[string]time.Time{}
			}
			if _, ok := v.callbacks[caller][id]; !ok {
				v.callbacks[caller][id] = m.at
			}
		case m.received && strings.HasPrefix(m.first, "SIP/2.0 200") && strings.HasSuffix(m.headers["cseq"], "INVITE"):
			caller := uriUser(m.headers["from"])
			if _, ok := v.answered[caller]; !ok && strings.HasPrefix(caller, "+"+callerKey) {
				v.answered[caller] = m.at
				v.answers = append(v.answers, [2]time.Time{v.invited[id], m.at})
			}
		}
	}
	return v
}

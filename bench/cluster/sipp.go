package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// sippStep is one SIPp run at a fixed call rate.
type sippStep struct {
	bin, scenario string
	target        string // Kamailio's SIP address
	number        string // the benchmark flow's number
	caller        string // -key caller: From is +<caller>00<n>
	rate, calls   int
	sipPort       int // SIPp's own SIP port
	mediaPort     int // its RTP echo port (RTCP takes the next one)
	dir           string
}

// sippResult is what SIPp counted: its statistics file's last row, each
// call's INVITE -> 200 time (the rtt file) and its own CPU.
type sippResult struct {
	created, succeeded, failed int
	timeouts, unexpected       int // FailedTimeoutOnRecv, FailedUnexpectedMessage
	retransmissions            int
	callLength                 time.Duration // SIPp's mean: failed calls count as 0 s
	setup                      []time.Duration
	cpu                        time.Duration
	err                        error // SIPp's exit status; failed calls make it non-zero
}

// run places the calls and waits for SIPp to end. A run that cannot
// start or that writes no statistics is an error; failed calls are not.
func (s sippStep) run(ctx context.Context) (sippResult, error) {
	stat := filepath.Join(s.dir, "stat.csv")
	// -l bounds the calls in flight at 30 s worth of the rate: far above what
	// ~2.5 s calls need, so only a stuck cluster reaches it.
	args := []string{s.target, "-sf", s.scenario, "-s", s.number, "-key", "caller", s.caller,
		"-r", strconv.Itoa(s.rate), "-m", strconv.Itoa(s.calls), "-l", strconv.Itoa(30 * s.rate),
		"-i", "127.0.0.1", "-p", strconv.Itoa(s.sipPort), "-mp", strconv.Itoa(s.mediaPort), "-rtp_echo",
		"-timeout", strconv.Itoa(s.calls/s.rate+120) + "s", "-nostdin",
		"-trace_stat", "-stf", stat, "-trace_rtt", "-rtt_freq", "1",
		"-trace_err", "-error_file", filepath.Join(s.dir, "errors.log")}
	cmd := exec.CommandContext(ctx, s.bin, args...)
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "TERM=dumb")
	out, err := os.Create(filepath.Join(s.dir, "sipp.out"))
	if err != nil {
		return sippResult{}, fmt.Errorf("sipp output: %w", err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	runErr := cmd.Run()
	if cmd.ProcessState == nil {
		return sippResult{}, fmt.Errorf("start sipp: %w", runErr)
	}
	res, err := readSippStats(stat)
	if err != nil {
		return sippResult{}, fmt.Errorf("%w (sipp: %v; see %s/sipp.out)", err, runErr, s.dir)
	}
	res.err = runErr
	res.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	if res.setup, err = readSippRTT(s.dir); err != nil {
		return sippResult{}, err
	}
	return res, nil
}

// readSippStats reads the cumulative counters from the last row of SIPp's
// -trace_stat file (';'-separated, a header row first).
func readSippStats(path string) (sippResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return sippResult{}, fmt.Errorf("sipp statistics: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma, r.FieldsPerRecord = ';', -1
	rows, err := r.ReadAll()
	if err != nil || len(rows) < 2 {
		return sippResult{}, fmt.Errorf("sipp statistics %s: %d rows, %v", path, len(rows), err)
	}
	head, last := rows[0], rows[len(rows)-1]
	col := func(name string) string {
		if i := slices.Index(head, name); i >= 0 && i < len(last) {
			return last[i]
		}
		return ""
	}
	num := func(name string) int { n, _ := strconv.Atoi(col(name)); return n }
	length, err := parseSippDuration(col("CallLength(C)"))
	if err != nil {
		return sippResult{}, err
	}
	return sippResult{
		created: num("OutgoingCall(C)"), succeeded: num("SuccessfulCall(C)"), failed: num("FailedCall(C)"),
		timeouts: num("FailedTimeoutOnRecv(C)"), unexpected: num("FailedUnexpectedMessage(C)"),
		retransmissions: num("Retransmissions(C)"), callLength: length,
	}, nil
}

// parseSippDuration reads SIPp's HH:MM:SS:micro (e.g. 00:00:02:564000).
func parseSippDuration(s string) (time.Duration, error) {
	p := strings.Split(s, ":")
	if len(p) != 4 {
		return 0, fmt.Errorf("sipp duration %q: want HH:MM:SS:micro", s)
	}
	var n [4]int64
	for i, f := range p {
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("sipp duration %q: %w", s, err)
		}
		n[i] = v
	}
	return time.Duration(n[0])*time.Hour + time.Duration(n[1])*time.Minute +
		time.Duration(n[2])*time.Second + time.Duration(n[3])*time.Microsecond, nil
}

// readSippRTT reads every call's response time 1 (INVITE -> 200, the
// scenario's rtd) from the rtt file SIPp writes in its working directory,
// <scenario>_<pid>_rtt.csv: "Date_ms;response_time_ms;rtd_no" rows.
func readSippRTT(dir string) ([]time.Duration, error) {
	files, _ := filepath.Glob(filepath.Join(dir, "*_rtt.csv"))
	switch len(files) {
	case 0:
		return nil, nil // no call was answered
	case 1:
	default:
		return nil, fmt.Errorf("sipp rtt files in %s: %d, want 1", dir, len(files))
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		return nil, fmt.Errorf("sipp rtt: %w", err)
	}
	return parseSippRTT(string(b))
}

func parseSippRTT(text string) ([]time.Duration, error) {
	var out []time.Duration
	for line := range strings.Lines(text) {
		f := strings.Split(strings.TrimSpace(line), ";")
		if len(f) < 3 || f[2] != "1" {
			continue // the header, or another rtd
		}
		ms, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			return nil, fmt.Errorf("sipp rtt row %q: %w", line, err)
		}
		out = append(out, time.Duration(ms*float64(time.Millisecond)))
	}
	return out, nil
}

// percentile is the nearest-rank p-th percentile (0 < p <= 100) of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(float64(len(s))*p/100+0.999999) - 1
	return s[max(0, min(rank, len(s)-1))]
}

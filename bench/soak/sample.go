package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// sample is one reading of the dev process.
type sample struct {
	At         time.Time `json:"at"`
	RSSMiB     float64   `json:"rss_mib"`
	Goroutines float64   `json:"goroutines"`
}

// sampleUntil reads RSS and goroutines every interval until end.
func sampleUntil(ctx context.Context, d *dev, end time.Time, every time.Duration) []sample {
	var out []sample
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		s := sample{At: time.Now(), RSSMiB: rssMiB(d.cmd.Process.Pid), Goroutines: goroutines(d.httpURL() + "/metrics")}
		out = append(out, s)
		fmt.Fprintf(os.Stderr, "soak: +%s rss %.1f MiB, %v goroutines\n",
			s.At.Sub(out[0].At).Round(time.Second), s.RSSMiB, s.Goroutines)
		select {
		case <-ctx.Done():
			return out
		case <-t.C:
		}
		if time.Now().After(end) {
			return out
		}
	}
}

// rssMiB is VmRSS of pid from /proc (0 when unreadable).
func rssMiB(pid int) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// goroutines is go_goroutines from a Prometheus text page (-1 when absent).
func goroutines(url string) float64 {
	_, body := get(url)
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, "go_goroutines "); ok {
			n, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return n
		}
	}
	return -1
}

// slopePerHour is the least-squares slope of ys over the samples' times.
func slopePerHour(ss []sample, y func(sample) float64) float64 {
	if len(ss) < 2 {
		return 0
	}
	var sx, sy, sxx, sxy float64
	n := float64(len(ss))
	for _, s := range ss {
		x := s.At.Sub(ss[0].At).Hours()
		sx, sy, sxx, sxy = sx+x, sy+y(s), sxx+x*x, sxy+x*y(s)
	}
	den := n*sxx - sx*sx
	if den == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / den
}

// sippTotals reads SIPp's statistics file's last row: calls created,
// successful and failed (cumulative columns).
func sippTotals(path string) (created, ok, failed int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("SIPp statistics: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma, r.FieldsPerRecord = ';', -1
	head, err := r.Read()
	if err != nil {
		return 0, 0, 0, fmt.Errorf("SIPp statistics %s: %w", filepath.Base(path), err)
	}
	var last []string
	for {
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		if err == nil {
			last = row
		}
	}
	col := func(name string) int {
		for i, h := range head {
			if h == name && i < len(last) {
				n, _ := strconv.Atoi(last[i])
				return n
			}
		}
		return 0
	}
	return col("TotalCallCreated"), col("SuccessfulCall(C)"), col("FailedCall(C)"), nil
}

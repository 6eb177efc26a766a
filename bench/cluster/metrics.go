package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// promSample is one scrape of a Prometheus text endpoint: each series
// ("family{labels}") and its value.
type promSample map[string]float64

// scrape reads a /metrics endpoint.
func scrape(ctx context.Context, url string) (promSample, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: %s, %v", url, res.Status, err)
	}
	return parseProm(string(b)), nil
}

// parseProm reads the Prometheus text format's samples (comments and
// timestamps dropped).
func parseProm(text string) promSample {
	out := promSample{}
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		series, value := line, ""
		if i := strings.LastIndex(line, "} "); i >= 0 {
			series, value = line[:i+1], line[i+2:]
		} else if i := strings.IndexByte(line, ' '); i >= 0 {
			series, value = line[:i], line[i+1:]
		}
		f := strings.Fields(value)
		if len(f) == 0 {
			continue
		}
		if v, err := strconv.ParseFloat(f[0], 64); err == nil {
			out[series] = v
		}
	}
	return out
}

// family is a series' metric name.
func family(series string) string {
	name, _, _ := strings.Cut(series, "{")
	return name
}

// sum adds the series of a family whose labels contain every one of
// labels (each written name="value").
func (p promSample) sum(fam string, labels ...string) float64 {
	var total float64
	for series, v := range p {
		if family(series) != fam || !hasLabels(series, labels) {
			continue
		}
		total += v
	}
	return total
}

func hasLabels(series string, labels []string) bool {
	for _, l := range labels {
		if !strings.Contains(series, l) {
			return false
		}
	}
	return true
}

// delta is after - before for every series of after (counters; a series
// new in after counts from zero).
func delta(before, after promSample) promSample {
	out := promSample{}
	for s, v := range after {
		out[s] = v - before[s]
	}
	return out
}

// mean is a histogram's or summary's sum / count over the series that
// match labels; NaN when nothing was observed.
func (p promSample) mean(fam string, labels ...string) float64 {
	n := p.sum(fam+"_count", labels...)
	if n == 0 {
		return math.NaN()
	}
	return p.sum(fam+"_sum", labels...) / n
}

// quantile estimates the q-quantile (0..1) of a histogram from its
// buckets (summed over the series that match labels), interpolating
// linearly inside the bucket as Prometheus' histogram_quantile does.
func (p promSample) quantile(fam string, q float64, labels ...string) float64 {
	byLE := map[float64]float64{}
	for series, v := range p {
		if family(series) != fam+"_bucket" || !hasLabels(series, labels) {
			continue
		}
		le, ok := labelValue(series, "le")
		if !ok {
			continue
		}
		bound, err := strconv.ParseFloat(le, 64) // "+Inf" parses as +Inf
		if err != nil {
			continue
		}
		byLE[bound] += v
	}
	bounds := make([]float64, 0, len(byLE))
	for b := range byLE {
		bounds = append(bounds, b)
	}
	sort.Float64s(bounds)
	if len(bounds) == 0 || byLE[bounds[len(bounds)-1]] == 0 {
		return math.NaN()
	}
	rank := q * byLE[bounds[len(bounds)-1]]
	lower, below := 0.0, 0.0
	for _, b := range bounds {
		if n := byLE[b]; n >= rank {
			if math.IsInf(b, 1) {
				return lower // above the last finite bound: report that bound
			}
			return lower + (b-lower)*(rank-below)/math.Max(n-below, 1e-12)
		}
		lower, below = b, byLE[b]
	}
	return lower
}

// labelValue is the value of label name in a series.
func labelValue(series, name string) (string, bool) {
	_, labels, ok := strings.Cut(series, "{")
	if !ok {
		return "", false
	}
	i := strings.Index(","+labels, ","+name+`="`) // whole label names only
	if i < 0 {
		return "", false
	}
	rest := labels[i+len(name)+2:]
	end := strings.IndexByte(rest, '"')
	if end < 0 {
		return "", false
	}
	return rest[:end], true
}

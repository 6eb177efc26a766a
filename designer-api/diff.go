package designerapi

import (
	"fmt"
	"strings"
)

// maxDiffEdits bounds the Myers search (memory grows with its square); past
// it the diff replaces the whole text, which is still a correct diff.
const maxDiffEdits = 4000

type edit struct {
	kind byte // ' ' same, '-' only in a, '+' only in b
	line string
}

// lines splits after each "\n", keeping the newline (so a last line
// without one is told apart).
func lines(s string) []string {
	if s == "" {
		return nil
	}
	out := strings.SplitAfter(s, "\n")
	if out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// diffLines is Myers' O(ND) shortest edit script between a and b.
func diffLines(a, b []string) []edit {
	n, m := len(a), len(b)
	maxD := n + m
	if maxD > 2*maxDiffEdits {
		maxD = maxDiffEdits
	}
	off := maxD + 1
	v := make([]int, 2*maxD+3)
	var trace [][]int
	found := false
	for d := 0; d <= maxD && !found; d++ {
		// trace[d] is v before step d, for k in [-d-1, d+1].
		trace = append(trace, append([]int(nil), v[off-d-1:off+d+2]...))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = v[off+k+1]
			} else {
				x = v[off+k-1] + 1
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			v[off+k] = x
			if x >= n && y >= m {
				found = true
				break
			}
		}
	}
	if !found { // too different: replace everything
		out := make([]edit, 0, n+m)
		for _, l := range a {
			out = append(out, edit{'-', l})
		}
		for _, l := range b {
			out = append(out, edit{'+', l})
		}
		return out
	}
	var rev []edit
	x, y := n, m
	for d := len(trace) - 1; d >= 0; d-- {
		tv := trace[d]
		at := func(k int) int { return tv[k+d+1] }
		k := x - y
		var pk int
		if k == -d || (k != d && at(k-1) < at(k+1)) {
			pk = k + 1
		} else {
			pk = k - 1
		}
		px := at(pk)
		py := px - pk
		for x > px && y > py {
			rev = append(rev, edit{' ', a[x-1]})
			x--
			y--
		}
		if d > 0 {
			if x == px {
				rev = append(rev, edit{'+', b[py]})
			} else {
				rev = append(rev, edit{'-', a[px]})
			}
		}
		x, y = px, py
	}
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	return rev
}

// unifiedDiff renders the difference of a and b as a unified diff with
// context lines around each change; "" when they are equal.
func unifiedDiff(aName, bName, a, b string, context int) string {
	if a == b {
		return ""
	}
	edits := diffLines(lines(a), lines(b))
	// Line numbers (0-based count of lines before) at each edit.
	aAt := make([]int, len(edits)+1)
	bAt := make([]int, len(edits)+1)
	for i, e := range edits {
		aAt[i+1], bAt[i+1] = aAt[i], bAt[i]
		if e.kind != '+' {
			aAt[i+1]++
		}
		if e.kind != '-' {
			bAt[i+1]++
		}
	}
	var b2 strings.Builder
	fmt.Fprintf(&b2, "--- %s\n+++ %s\n", aName, bName)
	for i := 0; i < len(edits); {
		if edits[i].kind == ' ' {
			i++
			continue
		}
		start := max(0, i-context)
		end := i
		// Extend over changes closer than 2*context apart.
		for j := i; j < len(edits); j++ {
			if edits[j].kind != ' ' {
				end = j
			} else if j-end > 2*context {
				break
			}
		}
		stop := min(len(edits), end+context+1)
		aCount, bCount := aAt[stop]-aAt[start], bAt[stop]-bAt[start]
		aStart, bStart := aAt[start], bAt[start]
		if aCount > 0 {
			aStart++
		}
		if bCount > 0 {
			bStart++
		}
		fmt.Fprintf(&b2, "@@ -%d,%d +%d,%d @@\n", aStart, aCount, bStart, bCount)
		for _, e := range edits[start:stop] {
			b2.WriteByte(e.kind)
			b2.WriteString(e.line)
			if !strings.HasSuffix(e.line, "\n") {
				b2.WriteString("\n\\ No newline at end of file\n")
			}
		}
		i = stop
	}
	return b2.String()
}

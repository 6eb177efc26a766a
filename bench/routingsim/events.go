package routingsim

type eventKind uint8

const (
	arrival eventKind = iota
	abandon
	finish
	overflow // a waiter reaches an overflow step: try again
)

// event happens at ns nanoseconds after the start; seq orders events at
// the same instant by when they were scheduled, so a run is repeatable.
type event struct {
	at     int64
	seq    uint64
	kind   eventKind
	agent  int32
	call   *call
	handle int64 // finish: the call's handle time
}

// eventHeap is a binary min-heap by (at, seq), kept by hand so that
// pushing and popping allocate nothing once grown.
type eventHeap []event

func (h eventHeap) less(i, j int) bool {
	return h[i].at < h[j].at || h[i].at == h[j].at && h[i].seq < h[j].seq
}

func (h *eventHeap) push(e event) {
	*h = append(*h, e)
	a := *h
	for i := len(a) - 1; i > 0; {
		p := (i - 1) / 2
		if !a.less(i, p) {
			break
		}
		a[i], a[p] = a[p], a[i]
		i = p
	}
}

func (h *eventHeap) pop() event {
	a := *h
	top := a[0]
	n := len(a) - 1
	a[0] = a[n]
	a = a[:n]
	for i := 0; ; {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && a.less(c+1, c) {
			c++
		}
		if !a.less(c, i) {
			break
		}
		a[i], a[c] = a[c], a[i]
		i = c
	}
	*h = a
	return top
}

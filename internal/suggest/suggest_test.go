package suggest

import "testing"

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"sip", "sip", 0}, {"", "abc", 3}, {"kitten", "sitting", 3},
		{"media.sipp", "media.sip", 1}, {"menü", "menu", 1}, {"tset", "test", 2},
	} {
		if got := Distance(c.a, c.b); got != c.want || Distance(c.b, c.a) != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d both ways", c.a, c.b, got, c.want)
		}
	}
}

func TestNearest(t *testing.T) {
	keys := []string{"media.sip", "media.tls", "media.rtp_ports"}
	for _, c := range []struct {
		word  string
		limit int
		want  string
	}{
		{"media.sipp", 4, "media.sip"},
		{"media.rtp_port", 4, "media.rtp_ports"},
		{"media.tlss", 4, "media.tls"},
		{"colour", 4, ""},
		{"media.sipp", 1, ""},         // one edit is not fewer than 1
		{"media.sxx", 3, "media.sip"}, // equals: the first wins
	} {
		if got := Nearest(c.word, keys, c.limit); got != c.want {
			t.Errorf("Nearest(%q, limit %d) = %q, want %q", c.word, c.limit, got, c.want)
		}
	}
}

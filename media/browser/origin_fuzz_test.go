package browser

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// FuzzOrigin opens the public chat socket with any Origin header: a
// socket is accepted only from the server's own host, a configured origin
// (shop.example.com) or a client that sends no Origin (not a browser).
func FuzzOrigin(f *testing.F) {
	for _, s := range []string{"", "https://shop.example.com", "https://SHOP.example.com:443", "https://evil.example",
		"null", "https://shop.example.com.evil", "http://127.0.0.1", "://", "https://user@shop.example.com/x?y"} {
		f.Add(s)
	}
	srv := New(Config{Origins: []string{"shop.example.com"}, Grace: time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	hs := newFuzzHTTP(f, srv)
	f.Fuzz(func(t *testing.T, origin string) {
		if strings.ContainsAny(origin, "\r\n\x00") {
			return // not a header value
		}
		origin = strings.Trim(origin, " \t") // HTTP drops a value's outer whitespace
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ws, _, err := websocket.Dial(ctx, hs+"/chat", &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {origin}}})
		if err != nil {
			return
		}
		_ = ws.CloseNow()
		if origin == "" {
			return
		}
		u, err := url.Parse(origin)
		if err != nil {
			t.Fatalf("origin %q does not parse yet was accepted", origin)
		}
		if host := strings.ToLower(u.Host); host != "shop.example.com" && host != strings.TrimPrefix(hs, "ws://") {
			t.Fatalf("origin %q (host %q) was accepted", origin, u.Host)
		}
		waitSocketsGone(t, ctx, srv)
	})
}

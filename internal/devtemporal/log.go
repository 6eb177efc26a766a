package devtemporal

import (
	"context"
	"log/slog"

	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
)

// minLevelHandler drops records below min before they reach the wrapped handler.
// The server logs a lot at info level (membership, shard and queue lifecycle),
// so only warnings and errors are passed on.
type minLevelHandler struct {
	min slog.Leveler
	h   slog.Handler
}

func (m minLevelHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= m.min.Level() && m.h.Enabled(ctx, l)
}

func (m minLevelHandler) Handle(ctx context.Context, r slog.Record) error {
	return m.h.Handle(ctx, r)
}

func (m minLevelHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevelHandler{min: m.min, h: m.h.WithAttrs(attrs)}
}

func (m minLevelHandler) WithGroup(name string) slog.Handler {
	return minLevelHandler{min: m.min, h: m.h.WithGroup(name)}
}

// serverLogger adapts an *slog.Logger to the server's log.Logger interface.
type serverLogger struct {
	l *slog.Logger
}

var (
	_ log.Logger     = serverLogger{}
	_ log.WithLogger = serverLogger{}
)

// newServerLogger returns a logger passing warn+ records to l, and the
// level variable to raise (Stop does: shutdown is noisy with warnings).
func newServerLogger(l *slog.Logger) (serverLogger, *slog.LevelVar) {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	level := new(slog.LevelVar)
	level.Set(slog.LevelWarn)
	return serverLogger{l: slog.New(minLevelHandler{min: level, h: l.Handler()}).With("component", "temporal")}, level
}

func (s serverLogger) log(level slog.Level, msg string, tags []tag.Tag) {
	ctx := context.Background()
	if !s.l.Enabled(ctx, level) {
		return
	}
	s.l.LogAttrs(ctx, level, msg, tagAttrs(tags)...)
}

func tagAttrs(tags []tag.Tag) []slog.Attr {
	attrs := make([]slog.Attr, 0, len(tags))
	for _, t := range tags {
		attrs = append(attrs, slog.Any(t.Key(), t.Value()))
	}
	return attrs
}

func (s serverLogger) Debug(msg string, tags ...tag.Tag) { s.log(slog.LevelDebug, msg, tags) }
func (s serverLogger) Info(msg string, tags ...tag.Tag)  { s.log(slog.LevelInfo, msg, tags) }
func (s serverLogger) Warn(msg string, tags ...tag.Tag)  { s.log(slog.LevelWarn, msg, tags) }
func (s serverLogger) Error(msg string, tags ...tag.Tag) { s.log(slog.LevelError, msg, tags) }

// DPanic, Panic and Fatal are logged as errors: an embedded server must not
// take the whole voxflow process down on its own.
func (s serverLogger) DPanic(msg string, tags ...tag.Tag) { s.log(slog.LevelError, msg, tags) }
func (s serverLogger) Panic(msg string, tags ...tag.Tag)  { s.log(slog.LevelError, msg, tags) }
func (s serverLogger) Fatal(msg string, tags ...tag.Tag)  { s.log(slog.LevelError, msg, tags) }

// With returns a logger with the tags prepended to every record.
func (s serverLogger) With(tags ...tag.Tag) log.Logger {
	args := make([]any, 0, len(tags))
	for _, a := range tagAttrs(tags) {
		args = append(args, a)
	}
	return serverLogger{l: s.l.With(args...)}
}

// SLog lets server components that want an *slog.Logger use ours (already
// filtered to warn+).
func (s serverLogger) SLog() *slog.Logger { return s.l }

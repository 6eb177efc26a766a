package config

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Log formats (log_format).
const (
	LogText = "text" // slog's key=value lines
	LogJSON = "json" // one JSON object per line, for log shippers
)

// Trace exporters (telemetry.traces).
const (
	TracesOff      = "off"
	TracesOTLPGRPC = "otlp-grpc" // OTLP over gRPC, port 4317 by default
	TracesOTLPHTTP = "otlp-http" // OTLP over HTTP/protobuf, port 4318 by default
	TracesStdout   = "stdout"    // spans as JSON on stdout, for a look without a collector
)

// DefaultSampleRatio keeps every trace (when traces are on at all).
const DefaultSampleRatio = 1.0

// Telemetry configures a process's traces (OpenTelemetry). Off by default.
type Telemetry struct {
	// Traces is TracesOff, TracesOTLPGRPC, TracesOTLPHTTP or TracesStdout.
	Traces string
	// OTLPEndpoint is the collector, e.g. http://otel-collector:4317 (an
	// https:// URL uses TLS); empty: $OTEL_EXPORTER_OTLP_ENDPOINT, else the
	// exporter's default on localhost.
	OTLPEndpoint string
	// SampleRatio is the share (0 to 1) of new traces kept; a trace begun
	// elsewhere follows its caller's decision.
	SampleRatio float64
}

// TracesOn says whether the process exports traces.
func (t Telemetry) TracesOn() bool { return t.Traces != "" && t.Traces != TracesOff }

// TelemetryKeys are the keys of the log and trace settings, for the
// long-running commands.
func TelemetryKeys() []string {
	return []string{"log_format", "telemetry.traces", "telemetry.otlp_endpoint", "telemetry.sample_ratio"}
}

func (c Config) validateTelemetry(bad func(key, format string, args ...any)) {
	if c.LogFormat != "" && c.LogFormat != LogText && c.LogFormat != LogJSON {
		bad("log_format", "want %s or %s, got %q", LogText, LogJSON, c.LogFormat)
	}
	t := c.Telemetry
	switch t.Traces {
	case "", TracesOff, TracesOTLPGRPC, TracesOTLPHTTP, TracesStdout:
	default:
		bad("telemetry.traces", "want %s, %s, %s or %s, got %q", TracesOff, TracesOTLPGRPC, TracesOTLPHTTP, TracesStdout, t.Traces)
	}
	if t.SampleRatio < 0 || t.SampleRatio > 1 {
		bad("telemetry.sample_ratio", "want a share from 0 to 1, got %v", t.SampleRatio)
	}
	if t.OTLPEndpoint != "" {
		u, err := url.Parse(t.OTLPEndpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("telemetry.otlp_endpoint", "want an http:// or https:// URL such as http://127.0.0.1:4317, got %q", t.OTLPEndpoint)
		}
	}
}

type floatVal float64

func (v *floatVal) set(s string) error {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return fmt.Errorf("want a number, got %q", s)
	}
	*v = floatVal(f)
	return nil
}
func (v *floatVal) String() string { return strconv.FormatFloat(float64(*v), 'g', -1, 64) }
func (v *floatVal) kind() string   { return "float" }

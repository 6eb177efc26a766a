package config

import (
	"strings"
	"testing"
)

// Logs and traces: off and text by default; the environment and flags set
// them; bad values are errors naming the key.
func TestTelemetrySettings(t *testing.T) {
	keys := TelemetryKeys()
	c, err := load(t, nil, nil, keys...)
	if err != nil {
		t.Fatal(err)
	}
	if c.LogFormat != LogText || c.Telemetry.TracesOn() || c.Telemetry.SampleRatio != 1 {
		t.Errorf("defaults: log %q, traces %q, ratio %v", c.LogFormat, c.Telemetry.Traces, c.Telemetry.SampleRatio)
	}
	c, err = load(t, map[string]string{"VOXFLOW_LOG_FORMAT": "json", "VOXFLOW_TRACES": "otlp-grpc"},
		[]string{"--otlp-endpoint", "http://127.0.0.1:4317", "--trace-sample-ratio", "0.25"}, keys...)
	if err != nil {
		t.Fatal(err)
	}
	if c.LogFormat != LogJSON || c.Telemetry.Traces != TracesOTLPGRPC || c.Telemetry.OTLPEndpoint != "http://127.0.0.1:4317" || c.Telemetry.SampleRatio != 0.25 {
		t.Errorf("set: %+v %q", c.Telemetry, c.LogFormat)
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--log-format", "xml"}, "log_format (from --log-format): want text or json"},
		{[]string{"--traces", "jaeger"}, "telemetry.traces (from --traces): want off, otlp-grpc"},
		{[]string{"--trace-sample-ratio", "2"}, "telemetry.sample_ratio (from --trace-sample-ratio): want a share from 0 to 1"},
		{[]string{"--otlp-endpoint", "127.0.0.1:4317"}, "telemetry.otlp_endpoint (from --otlp-endpoint): want an http:// or https:// URL"},
	} {
		_, err := load(t, nil, bad.args, keys...)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%v: err = %v, want %q", bad.args, err, bad.want)
		}
	}
	if _, err := load(t, nil, []string{"--trace-sample-ratio", "half"}, keys...); err == nil || !strings.Contains(err.Error(), "want a number") {
		t.Errorf("ratio half: err = %v", err)
	}
}

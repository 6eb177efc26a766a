package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync/atomic"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"

	"github.com/voxflow/voxflow/platform/config"
)

// tracing is on once StartTracing installed a tracer provider.
var tracing atomic.Bool

// TracingOn says whether this process exports traces.
func TracingOn() bool { return tracing.Load() }

// StartTracing installs the process's OpenTelemetry tracer provider as
// configured (nothing when traces are off, the default) and returns what
// flushes and stops it. service names the process in traces
// (voxflow-engine, voxflow-media, voxflow-api, voxflow-dev) unless
// $OTEL_SERVICE_NAME says otherwise. Call it before the process builds its
// Temporal client: TemporalInterceptors and HTTPHandler trace only then.
func StartTracing(ctx context.Context, t config.Telemetry, service string) (stop func(context.Context) error, err error) {
	if !t.TracesOn() {
		return func(context.Context) error { return nil }, nil
	}
	exp, err := newExporter(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("traces (telemetry.traces %s): %w", t.Traces, err)
	}
	return InstallTracer(ctx, sdktrace.NewBatchSpanProcessor(exp), t.SampleRatio, service)
}

// InstallTracer makes spans go to sp (tests pass a tracetest recorder),
// keeping ratio of new traces, and turns tracing on.
func InstallTracer(ctx context.Context, sp sdktrace.SpanProcessor, ratio float64, service string) (func(context.Context) error, error) {
	res, err := resource.New(ctx, resource.WithAttributes(attribute.String("service.name", service)), resource.WithFromEnv())
	if err != nil {
		return nil, fmt.Errorf("trace resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSpanProcessor(sp),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))),
	)
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	tracing.Store(true)
	return func(ctx context.Context) error {
		tracing.Store(false)
		return tp.Shutdown(ctx)
	}, nil
}

// newExporter builds the configured exporter. An empty endpoint leaves
// the exporter to $OTEL_EXPORTER_OTLP_ENDPOINT (and the other OTEL_*
// variables), else its localhost default.
func newExporter(ctx context.Context, t config.Telemetry) (sdktrace.SpanExporter, error) {
	switch t.Traces {
	case config.TracesOTLPGRPC:
		var opts []otlptracegrpc.Option
		if t.OTLPEndpoint != "" {
			opts = append(opts, otlptracegrpc.WithEndpointURL(t.OTLPEndpoint))
		}
		return otlptracegrpc.New(ctx, opts...)
	case config.TracesOTLPHTTP:
		var opts []otlptracehttp.Option
		if t.OTLPEndpoint != "" {
			opts = append(opts, otlptracehttp.WithEndpointURL(t.OTLPEndpoint))
		}
		return otlptracehttp.New(ctx, opts...)
	case config.TracesStdout:
		return stdouttrace.New(stdouttrace.WithWriter(os.Stdout))
	}
	return nil, errors.New("unknown exporter")
}

// TemporalInterceptors are the client interceptors of a Temporal client:
// with tracing on, Temporal's OpenTelemetry interceptor, which carries the
// trace through workflow starts, signals, updates, workflow tasks and
// activities in the calls' headers (workers built on the client trace
// too); queries are not traced. Nil with tracing off: no cost per call.
func TemporalInterceptors() ([]interceptor.ClientInterceptor, error) {
	if !TracingOn() {
		return nil, nil
	}
	ti, err := temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{
		Tracer:            otel.Tracer("voxflow/temporal"),
		TextMapPropagator: otel.GetTextMapPropagator(),
		// Queries are reads, and every metrics scrape makes some (the
		// router's board, campaigns' pictures): a root span each.
		DisableQueryTracing: true,
	})
	if err != nil {
		return nil, fmt.Errorf("temporal tracing interceptor: %w", err)
	}
	return []interceptor.ClientInterceptor{ti}, nil
}

// HTTPHandler traces the requests h serves (a server span each, joined to
// the caller's trace when the request carries one), except scrapes and
// probes (/metrics, /healthz); h itself with tracing off. operation names
// the server in span names, e.g. "voxflow-api".
func HTTPHandler(h http.Handler, operation string) http.Handler {
	if !TracingOn() {
		return h
	}
	return otelhttp.NewHandler(h, operation,
		otelhttp.WithSpanNameFormatter(func(op string, r *http.Request) string { return r.Method + " " + op }),
		otelhttp.WithFilter(func(r *http.Request) bool { return r.URL.Path != "/metrics" && r.URL.Path != "/healthz" }))
}

// Instrument adds the process's metrics handler (ProcessMetrics) and, with
// tracing on, the tracing interceptor to the options of a Temporal client.
func Instrument(o *client.Options) error {
	if o.MetricsHandler == nil {
		o.MetricsHandler = ProcessMetrics().Handler()
	}
	ics, err := TemporalInterceptors()
	if err != nil {
		return err
	}
	o.Interceptors = append(o.Interceptors, ics...)
	return nil
}

package llm

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/llm/llmtest"
)

func TestRetryAfterIsHonoured(t *testing.T) {
	srv := llmtest.NewServer(t)
	srv.Enqueue(llmtest.RateLimited("1"), llmtest.JSON(llmtest.IntentAnswer("pay", 0.9, nil, 0)))
	c, logs := newTestClient(t, srv, nil)

	start := time.Now()
	got, err := c.Intent(ctxWithTimeout(t, 10*time.Second), bookingInput())
	waited := time.Since(start)
	if err != nil {
		t.Fatalf("Intent: %v", err)
	}
	if got.Intent != "pay" || srv.Count() != 2 {
		t.Errorf("got %+v after %d requests, want pay after 2", got, srv.Count())
	}
	if waited < time.Second {
		t.Errorf("retried after %s, before the Retry-After of 1s", waited)
	}
	if !strings.Contains(logs.String(), "wait=1s") {
		t.Errorf("retry log does not show the 1s wait:\n%s", logs)
	}
	if s := c.Stats(); s.Requests != 2 || s.Retries != 1 || s.Failures != 1 {
		t.Errorf("stats = %+v", s)
	}
}

func TestRetryAfterAsHTTPDate(t *testing.T) {
	srv := llmtest.NewServer(t)
	srv.Enqueue(llmtest.RateLimited(time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)))
	c, _ := newTestClient(t, srv, nil)
	ctx := ctxWithTimeout(t, 10*time.Second)
	_, err := c.Intent(ctx, bookingInput())
	wantErrType(t, err, activities.ErrTypeAIUnavailable)
	if ctx.Err() != nil || srv.Count() != 1 {
		t.Errorf("waited for an hour's Retry-After (ctx %v, %d requests)", ctx.Err(), srv.Count())
	}
}

func TestRetryAfterBeyondBudgetGivesUpAtOnce(t *testing.T) {
	srv := llmtest.NewServer(t)
	srv.Enqueue(llmtest.RateLimited("30"))
	c, _ := newTestClient(t, srv, nil)
	ctx := ctxWithTimeout(t, 5*time.Second)

	_, err := c.Intent(ctx, bookingInput())
	wantErrType(t, err, activities.ErrTypeAIUnavailable)
	if ctx.Err() != nil {
		t.Errorf("the call waited until its budget ran out (%v); it should give up as soon as it sees Retry-After: 30", ctx.Err())
	}
	if srv.Count() != 1 {
		t.Errorf("server saw %d requests, want 1", srv.Count())
	}
	if !strings.Contains(err.Error(), "next try (in 30s) is past the time left") {
		t.Errorf("error %q does not say why it gave up", err)
	}
}

func TestChatTimeoutIsTheBudget(t *testing.T) {
	srv := llmtest.NewServer(t)
	srv.Enqueue(llmtest.RateLimited("2"))
	c, _ := newTestClient(t, srv, nil)
	in := activities.ChatInput{Messages: []activities.ChatMessage{{Role: "user", Content: "hi"}}, Timeout: time.Second}
	_, err := c.Chat(context.Background(), in)
	wantErrType(t, err, activities.ErrTypeAIUnavailable)
	if srv.Count() != 1 {
		t.Errorf("server saw %d requests, want 1: a 2s Retry-After is past a 1s budget", srv.Count())
	}
}

func TestServerErrorsAreRetried(t *testing.T) {
	srv := llmtest.NewServer(t)
	srv.Enqueue(llmtest.ServerError(), llmtest.Status(http.StatusServiceUnavailable, "server_error", "overloaded"),
		llmtest.JSON(llmtest.IntentAnswer("cancel_appointment", 0.9, map[string]any{"booking_ref": "991"}, 0)))
	c, _ := newTestClient(t, srv, nil)
	got, err := c.Intent(ctxWithTimeout(t, 10*time.Second), bookingInput())
	if err != nil {
		t.Fatalf("Intent: %v", err)
	}
	if got.Intent != "cancel_appointment" || got.Slots["booking_ref"] != "991" {
		t.Errorf("got %+v", got)
	}
	if s := c.Stats(); s.Requests != 3 || s.Retries != 2 || s.Failures != 2 || s.State != StateClosed {
		t.Errorf("stats = %+v, want 3 requests, 2 retries, 2 failures, closed", s)
	}
}

func TestRetriesRunOut(t *testing.T) {
	srv := llmtest.NewServer(t)
	for range 3 {
		srv.Enqueue(llmtest.ServerError())
	}
	c, _ := newTestClient(t, srv, func(cfg *Config) { cfg.MaxRetries = 2 })
	_, err := c.Intent(ctxWithTimeout(t, 10*time.Second), bookingInput())
	wantErrType(t, err, activities.ErrTypeAIUnavailable)
	if !strings.Contains(err.Error(), "failed 3 times") || srv.Count() != 3 {
		t.Errorf("error %q after %d requests, want 3 failures", err, srv.Count())
	}
}

func TestRejectedIsNotRetried(t *testing.T) {
	srv := llmtest.NewServer(t)
	srv.Enqueue(llmtest.BadRequest("Invalid schema for response_format 'intent_answer': 'minimum' is not permitted."))
	c, _ := newTestClient(t, srv, nil)
	_, err := c.Intent(ctxWithTimeout(t, 10*time.Second), bookingInput())
	wantErrType(t, err, activities.ErrTypeAIRejected)
	if want := "status 400: invalid_request_error: Invalid schema for response_format 'intent_answer'"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q lacks %q", err, want)
	}
	if srv.Count() != 1 {
		t.Errorf("server saw %d requests, want 1", srv.Count())
	}
	if s := c.Stats(); s.Rejected != 1 || s.Failures != 0 || s.State != StateClosed {
		t.Errorf("stats = %+v: a refusal is no endpoint failure", s)
	}
}

func TestRequestTimeoutIsRetriedThenUnavailable(t *testing.T) {
	srv := llmtest.NewServer(t)
	slow := llmtest.JSON(llmtest.IntentAnswer("pay", 1, nil, 0)).After(5 * time.Second)
	srv.Enqueue(slow, slow)
	c, _ := newTestClient(t, srv, func(cfg *Config) {
		cfg.Timeout = 100 * time.Millisecond
		cfg.MaxRetries = 1
	})
	_, err := c.Intent(ctxWithTimeout(t, 10*time.Second), bookingInput())
	wantErrType(t, err, activities.ErrTypeAIUnavailable)
	if srv.Count() != 2 {
		t.Errorf("server saw %d requests, want 2 (one retry)", srv.Count())
	}
	if !strings.Contains(err.Error(), "no answer within 100ms") {
		t.Errorf("error %q does not name the timeout", err)
	}
}

func TestBudgetEndsDuringRequest(t *testing.T) {
	srv := llmtest.NewServer(t)
	srv.Enqueue(llmtest.Text("late").After(5 * time.Second))
	c, _ := newTestClient(t, srv, nil)
	in := activities.ChatInput{Messages: []activities.ChatMessage{{Role: "user", Content: "hi"}}, Timeout: 200 * time.Millisecond}
	_, err := c.Chat(context.Background(), in)
	wantErrType(t, err, activities.ErrTypeAIUnavailable)
	if !strings.Contains(err.Error(), "within the time budget") {
		t.Errorf("error %q", err)
	}
}

func TestCancelledCallIsNoAIError(t *testing.T) {
	srv := llmtest.NewServer(t)
	srv.Enqueue(llmtest.Text("late").After(5 * time.Second))
	c, _ := newTestClient(t, srv, nil)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err := c.Intent(ctx, bookingInput())
	if errType(err) != "" || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("error %v, want the cancellation", err)
	}
	if c.State() != StateClosed || c.Stats().Failures != 0 {
		t.Errorf("a hang-up counted against the endpoint: %+v", c.Stats())
	}
}

func TestBreakerOpensFailsFastAndHalfOpens(t *testing.T) {
	srv := llmtest.NewServer(t)
	clock := &fakeClock{t: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)}
	c, _ := newTestClient(t, srv, func(cfg *Config) {
		cfg.MaxRetries = -1
		cfg.Breaker = BreakerConfig{Failures: 3, CoolDown: 30 * time.Second}
	})
	c.now = clock.now
	ctx := ctxWithTimeout(t, 10*time.Second)
	call := func() error { _, err := c.Intent(ctx, bookingInput()); return err }

	for i := range 3 {
		srv.Enqueue(llmtest.ServerError())
		if err := call(); errType(err) != activities.ErrTypeAIUnavailable || strings.Contains(err.Error(), "circuit open") {
			t.Fatalf("call %d: %v, want the endpoint's failure", i+1, err)
		}
	}
	if c.State() != StateOpen {
		t.Fatalf("state = %s after 3 failures, want open", c.State())
	}
	err := call()
	wantErrType(t, err, activities.ErrTypeAIUnavailable)
	if !strings.Contains(err.Error(), "model endpoint unavailable (circuit open)") || srv.Count() != 3 {
		t.Errorf("open breaker: error %q, %d requests; want a fast failure with no request", err, srv.Count())
	}

	clock.advance(29 * time.Second)
	if call() == nil || srv.Count() != 3 {
		t.Fatalf("breaker let a request through before the cool-down ended")
	}
	clock.advance(time.Second)
	if c.State() != StateHalfOpen {
		t.Fatalf("state = %s after the cool-down, want half-open", c.State())
	}
	srv.Enqueue(llmtest.ServerError()) // the trial fails: open again
	if err := call(); srv.Count() != 4 || strings.Contains(err.Error(), "circuit open") {
		t.Fatalf("trial request: %v (%d requests)", err, srv.Count())
	}
	if c.State() != StateOpen || call() == nil || srv.Count() != 4 {
		t.Fatalf("state = %s after a failed trial, want open and failing fast", c.State())
	}

	clock.advance(30 * time.Second)
	srv.Enqueue(llmtest.JSON(llmtest.IntentAnswer("pay", 1, nil, 0)))
	if err := call(); err != nil {
		t.Fatalf("trial request after the second cool-down: %v", err)
	}
	if c.State() != StateClosed {
		t.Errorf("state = %s after a good trial, want closed", c.State())
	}
	if s := c.Stats(); s.BreakerOpened != 2 || s.ShortCircuited != 3 || s.Requests != 5 {
		t.Errorf("stats = %+v, want opened twice, 3 calls short-circuited, 5 requests", s)
	}
}

func TestBreakerLetsOneTrialThrough(t *testing.T) {
	clock := &fakeClock{t: time.Unix(0, 0)}
	b := newBreaker(BreakerConfig{Failures: 1, CoolDown: time.Second}, clock.now)
	if !b.allow() {
		t.Fatal("closed breaker refused")
	}
	b.done(true)
	if b.allow() {
		t.Fatal("open breaker allowed a request")
	}
	clock.advance(time.Second)
	if !b.allow() {
		t.Fatal("breaker refused the trial after its cool-down")
	}
	if b.allow() {
		t.Fatal("breaker let a second request through while the trial is in flight")
	}
	b.release() // the trial's caller hung up before sending
	if !b.allow() {
		t.Fatal("breaker refused a new trial after one was released")
	}
	b.done(false)
	if b.state() != StateClosed || !b.allow() {
		t.Fatalf("state = %s after a good trial", b.state())
	}
}

func TestKeyNeverInLogsOrErrors(t *testing.T) {
	srv := llmtest.NewServer(t)
	srv.Enqueue(
		llmtest.JSON(llmtest.IntentAnswer("pay", 1, nil, 0)),
		llmtest.Status(http.StatusUnauthorized, "invalid_request_error", "Incorrect API key provided: "+testKey+". You can find your API key at https://platform.openai.com/account/api-keys."),
		llmtest.Raw(http.StatusInternalServerError, "upstream said: "+testKey),
		llmtest.Raw(http.StatusInternalServerError, "upstream said: "+testKey),
	)
	c, logs := newTestClient(t, srv, func(cfg *Config) { cfg.MaxRetries = 1 })
	ctx := ctxWithTimeout(t, 10*time.Second)
	if _, err := c.Intent(ctx, bookingInput()); err != nil {
		t.Fatalf("first call: %v", err)
	}
	_, rejected := c.Intent(ctx, bookingInput())
	wantErrType(t, rejected, activities.ErrTypeAIRejected)
	_, unavailable := c.Intent(ctx, bookingInput())
	wantErrType(t, unavailable, activities.ErrTypeAIUnavailable)

	for _, r := range srv.Requests() {
		if r.Authorization() != "Bearer "+testKey {
			t.Fatalf("request %d was not sent with the key", r.N)
		}
	}
	for name, text := range map[string]string{"logs": logs.String(), "rejected": rejected.Error(), "unavailable": unavailable.Error(),
		"config": strings.Join([]string{c.Config().BaseURL, c.Config().Model}, " ")} {
		if strings.Contains(text, testKey) || strings.Contains(text, testKey[8:]) {
			t.Errorf("%s contain the API key:\n%s", name, text)
		}
	}
	if !strings.Contains(logs.String(), "level=DEBUG msg=\"llm request\"") || !strings.Contains(rejected.Error(), "[redacted]") {
		t.Errorf("the debug log or the scrubbed error is missing: %s / %s", logs, rejected)
	}
}

func TestAzureURLAndHeaders(t *testing.T) {
	srv := llmtest.NewServer(t)
	srv.Enqueue(llmtest.Text("hello"), llmtest.Text("hello"))
	c, _ := newTestClient(t, srv, func(cfg *Config) {
		cfg.BaseURL = srv.Root
		cfg.APIType = APIAzure
		cfg.Model = "gpt-4o"
		cfg.Deployments = map[string]string{"gpt-4o": "voxflow-prod-4o"}
	})
	ctx := ctxWithTimeout(t, 10*time.Second)
	for _, model := range []string{"", "gpt-4o-mini"} {
		in := activities.ChatInput{Model: model, Messages: []activities.ChatMessage{{Role: "user", Content: "hi"}}}
		if _, err := c.Chat(ctx, in); err != nil {
			t.Fatalf("Chat: %v", err)
		}
	}
	reqs := srv.Requests()
	for i, wantPath := range []string{"/openai/deployments/voxflow-prod-4o/chat/completions", "/openai/deployments/gpt-4o-mini/chat/completions"} {
		r := reqs[i]
		if r.Path != wantPath || r.Query.Get("api-version") != DefaultAzureAPIVersion {
			t.Errorf("request %d: %s?%s, want %s?api-version=%s", i, r.Path, r.Query.Encode(), wantPath, DefaultAzureAPIVersion)
		}
		if r.Header.Get("api-key") != testKey || r.Authorization() != "" {
			t.Errorf("request %d: api-key %q, Authorization %q; want the key in api-key only", i, r.Header.Get("api-key"), r.Authorization())
		}
	}
}

func TestOrganizationHeader(t *testing.T) {
	srv := llmtest.NewServer(t)
	srv.Enqueue(llmtest.Text("hello"))
	c, _ := newTestClient(t, srv, func(cfg *Config) { cfg.Organization = "org-voxflow" })
	if _, err := c.Chat(context.Background(), activities.ChatInput{Messages: []activities.ChatMessage{{Role: "user", Content: "hi"}}}); err != nil {
		t.Fatal(err)
	}
	if got := srv.Last().Header.Get("OpenAI-Organization"); got != "org-voxflow" {
		t.Errorf("OpenAI-Organization = %q", got)
	}
}

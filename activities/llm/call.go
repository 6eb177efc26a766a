package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/voxflow/voxflow/activities"
)

// Backoff between retries without Retry-After: backoffBase doubled per
// retry, at most backoffMax, of which the last half is random.
const (
	backoffBase = 250 * time.Millisecond
	backoffMax  = 4 * time.Second
)

// callInfo names a call in logs.
type callInfo struct {
	op, callID, nodeID string
}

// outcome is how one attempt ended.
type outcome int

const (
	outcomeOK        outcome = iota
	outcomeRetryable         // 429, 5xx, network error, request timeout
	outcomeRejected          // 4xx but 429, or refused before sending
	outcomeBadOutput         // a 2xx whose body is no chat completion
	outcomeStopped           // the caller's context ended
)

// complete sends req, retrying within budget (0: the context's deadline
// alone) behind the circuit breaker. Errors are the activities' AI errors,
// or the context's error when the caller gave up.
func (c *Client) complete(ctx context.Context, info callInfo, req openai.ChatCompletionRequest, budget time.Duration) (openai.ChatCompletionResponse, error) {
	if budget > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, budget)
		defer cancel()
	}
	start := time.Now()
	c.logRequest(ctx, info, req)
	var last error
	for attempt := 0; ; attempt++ {
		if !c.brk.allow() {
			c.counts.shortCircuited.Add(1)
			c.logDone(info, req.Model, start, attempt, "circuit_open", nil, "")
			return openai.ChatCompletionResponse{}, activities.NewAIUnavailable("model endpoint unavailable (circuit open)", last)
		}
		if attempt > 0 {
			c.counts.retries.Add(1)
		}
		res, meta, err := c.attempt(ctx, req)
		kind, err := c.classify(ctx, meta, err)
		c.settleBreaker(kind)
		switch kind {
		case outcomeOK:
			c.counts.promptTokens.Add(uint64(max(res.Usage.PromptTokens, 0)))
			c.counts.completionTokens.Add(uint64(max(res.Usage.CompletionTokens, 0)))
			c.logDone(info, req.Model, start, attempt+1, "ok", &res, meta.requestID)
			c.logAnswer(ctx, info, res)
			return res, nil
		case outcomeRetryable:
			last = err
		default:
			c.logDone(info, req.Model, start, attempt+1, outcomeName(kind, meta), nil, meta.requestID)
			return openai.ChatCompletionResponse{}, err
		}
		wait, err := c.nextWait(ctx, attempt, meta, last)
		if err != nil {
			c.logDone(info, req.Model, start, attempt+1, "unavailable", nil, meta.requestID)
			return openai.ChatCompletionResponse{}, err
		}
		c.log.Warn("llm request failed, retrying", "op", info.op, "call", info.callID, "node", info.nodeID,
			"model", req.Model, "attempt", attempt+1, "status", meta.status, "wait", wait, "error", last.Error())
		if err := sleep(ctx, wait); err != nil {
			c.logDone(info, req.Model, start, attempt+1, "stopped", nil, "")
			return openai.ChatCompletionResponse{}, c.stopped(ctx, last)
		}
	}
}

// attempt sends req once, under the per-request timeout.
func (c *Client) attempt(ctx context.Context, req openai.ChatCompletionRequest) (openai.ChatCompletionResponse, *responseMeta, error) {
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	meta := &responseMeta{}
	c.counts.requests.Add(1)
	res, err := c.api.CreateChatCompletion(withMeta(actx, meta), req)
	if err != nil && actx.Err() != nil && ctx.Err() == nil {
		err = fmt.Errorf("no answer within %s: %w", c.cfg.Timeout, err)
		meta.timedOut = true
	}
	return res, meta, err
}

// classify sorts an attempt's result and turns its error into the one to
// return (an AI error, or the last cause to retry on).
func (c *Client) classify(ctx context.Context, meta *responseMeta, err error) (outcome, error) {
	if err == nil {
		return outcomeOK, nil
	}
	if ctx.Err() != nil {
		return outcomeStopped, c.stopped(ctx, err)
	}
	status := statusOf(err)
	switch {
	case meta.timedOut:
		return outcomeRetryable, c.scrubbed(err)
	case status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status >= 500:
		return outcomeRetryable, c.scrubbed(err)
	case status != 0:
		c.counts.rejected.Add(1)
		msg := fmt.Sprintf("model endpoint refused the request: status %d: %s", status, c.scrub(endpointMessage(err)))
		return outcomeRejected, activities.NewAIRejected(msg, nil)
	case !meta.sent:
		// go-openai checks some requests itself (models it knows).
		c.counts.rejected.Add(1)
		return outcomeRejected, activities.NewAIRejected("request refused before sending: "+c.scrub(err.Error()), nil)
	case isDecodeError(err) && meta.status/100 == 2:
		c.counts.badOutput.Add(1)
		return outcomeBadOutput, activities.NewAIBadOutput("model endpoint answered with no chat completion: "+c.scrub(err.Error()), nil)
	default:
		return outcomeRetryable, c.scrubbed(err)
	}
}

// settleBreaker reports an attempt's outcome to the breaker: an answer,
// even a refusal, shows the endpoint is up.
func (c *Client) settleBreaker(kind outcome) {
	switch kind {
	case outcomeStopped:
		c.brk.release()
	case outcomeRetryable:
		c.counts.failures.Add(1)
		c.brk.done(true)
	default:
		c.brk.done(false)
	}
}

// nextWait is how long to wait before the next attempt, or the error to
// return: retries used up, or a wait past the budget.
func (c *Client) nextWait(ctx context.Context, attempt int, meta *responseMeta, last error) (time.Duration, error) {
	if attempt >= c.cfg.retries() {
		return 0, activities.NewAIUnavailable(fmt.Sprintf("model endpoint failed %d times", attempt+1), last)
	}
	wait := c.backoff(attempt)
	if ra, ok := parseRetryAfter(meta.retryAfter, time.Now()); ok {
		wait = ra
	}
	if deadline, ok := ctx.Deadline(); ok {
		if left := time.Until(deadline); wait >= left {
			return 0, activities.NewAIUnavailable(fmt.Sprintf(
				"model endpoint failed; its next try (in %s) is past the time left (%s)", wait.Round(time.Millisecond), max(left, 0).Round(time.Millisecond)), last)
		}
	}
	return wait, nil
}

// backoff is the wait before retry attempt+1: exponential with jitter.
func (c *Client) backoff(attempt int) time.Duration {
	d := backoffMax
	if attempt < 5 {
		d = min(backoffBase<<attempt, backoffMax)
	}
	return d/2 + time.Duration(c.jitter()*float64(d/2))
}

// stopped is the error when the caller's context ended: its deadline is
// the node's budget, so running out of it is an unavailable endpoint;
// cancellation stays cancellation.
func (c *Client) stopped(ctx context.Context, last error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return activities.NewAIUnavailable("model endpoint gave no usable answer within the time budget", c.scrubbed(last))
	}
	return fmt.Errorf("llm request: %w", ctx.Err())
}

// scrubbed is err with the key removed from its text; nil stays nil.
func (c *Client) scrubbed(err error) error {
	if err == nil {
		return nil
	}
	return errors.New(c.scrub(err.Error()))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// statusOf is the HTTP status of a go-openai error, 0 when none.
func statusOf(err error) int {
	var apiErr *openai.APIError
	if errors.As(err, &apiErr) {
		return apiErr.HTTPStatusCode
	}
	var reqErr *openai.RequestError
	if errors.As(err, &reqErr) {
		return reqErr.HTTPStatusCode
	}
	return 0
}

// endpointMessage is the error message an endpoint sent with a refusal.
func endpointMessage(err error) string {
	var apiErr *openai.APIError
	if errors.As(err, &apiErr) {
		if apiErr.Type != "" {
			return apiErr.Type + ": " + apiErr.Message
		}
		return apiErr.Message
	}
	var reqErr *openai.RequestError
	if errors.As(err, &reqErr) {
		body := string(reqErr.Body)
		if len(body) > 300 {
			body = body[:300] + "..."
		}
		return body
	}
	return err.Error()
}

func isDecodeError(err error) bool {
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	return errors.As(err, &syntaxErr) || errors.As(err, &typeErr)
}

func outcomeName(kind outcome, meta *responseMeta) string {
	switch kind {
	case outcomeRejected:
		return fmt.Sprintf("rejected_%d", meta.status)
	case outcomeBadOutput:
		return "bad_output"
	case outcomeStopped:
		return "stopped"
	}
	return "error"
}

// logDone logs a finished call: never the key, prompts or answers.
func (c *Client) logDone(info callInfo, model string, start time.Time, attempts int, status string, res *openai.ChatCompletionResponse, requestID string) {
	args := []any{"op", info.op, "call", info.callID, "node", info.nodeID, "model", model,
		"latency", time.Since(start), "attempts", attempts, "status", status}
	if requestID != "" {
		args = append(args, "request_id", requestID)
	}
	if res != nil {
		args = append(args, "prompt_tokens", res.Usage.PromptTokens, "completion_tokens", res.Usage.CompletionTokens)
	}
	level := slog.LevelInfo
	if status != "ok" {
		level = slog.LevelWarn
	}
	c.log.Log(context.Background(), level, "llm call", args...)
}

// logRequest logs the request body at debug level only: prompts carry what
// callers said.
func (c *Client) logRequest(ctx context.Context, info callInfo, req openai.ChatCompletionRequest) {
	if !c.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	body, err := json.Marshal(req)
	if err != nil {
		body = []byte(err.Error())
	}
	c.log.Debug("llm request", "op", info.op, "call", info.callID, "node", info.nodeID, "body", string(body))
}

// logAnswer logs the model's answer at debug level only.
func (c *Client) logAnswer(ctx context.Context, info callInfo, res openai.ChatCompletionResponse) {
	if !c.log.Enabled(ctx, slog.LevelDebug) || len(res.Choices) == 0 {
		return
	}
	msg := res.Choices[0].Message
	calls, _ := json.Marshal(msg.ToolCalls)
	c.log.Debug("llm answer", "op", info.op, "call", info.callID, "node", info.nodeID,
		"content", msg.Content, "tool_calls", string(calls))
}

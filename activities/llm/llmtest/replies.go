package llmtest

import (
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"time"
)

// Reply is what the server answers one request with: Body as is when set,
// else a chat completion carrying Message (the request's model, usage
// from the sizes), after Delay.
type Reply struct {
	Status       int
	Header       http.Header
	Body         []byte
	Message      *Message
	FinishReason string
	Delay        time.Duration
}

// After is r sent after d (to run past a client's timeout).
func (r Reply) After(d time.Duration) Reply {
	r.Delay = d
	return r
}

// Text answers with a message whose content is s (text, or JSON text).
func Text(s string) Reply { return Reply{Message: &Message{Content: s}} }

// JSON answers with a message whose content is v as JSON.
func JSON(v any) Reply {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("llmtest.JSON: %v", err))
	}
	return Text(string(b))
}

// ToolCalls answers with calls of tools: name and JSON arguments, in
// pairs.
func ToolCalls(nameArgs ...string) Reply {
	msg := &Message{}
	for i := 0; i+1 < len(nameArgs); i += 2 {
		msg.ToolCalls = append(msg.ToolCalls, ToolCall{
			ID: fmt.Sprintf("call_llmtest_%d", i/2+1), Type: "function",
			Function: Function{Name: nameArgs[i], Arguments: nameArgs[i+1]},
		})
	}
	return Reply{Message: msg}
}

// Status answers with an HTTP status and an OpenAI error body.
func Status(status int, typ, message string) Reply {
	return Reply{Status: status, Body: errorBody(typ, message, "")}
}

// RateLimited answers 429 with a Retry-After header (seconds or an HTTP
// date; "" for none).
func RateLimited(retryAfter string) Reply {
	r := Reply{Status: http.StatusTooManyRequests, Body: errorBody("requests", "Rate limit reached for requests", "rate_limit_exceeded")}
	if retryAfter != "" {
		r.Header = http.Header{"Retry-After": {retryAfter}}
	}
	return r
}

// ServerError answers 500.
func ServerError() Reply {
	return Status(http.StatusInternalServerError, "server_error", "The server had an error while processing your request.")
}

// BadRequest answers 400 invalid_request_error with message.
func BadRequest(message string) Reply {
	return Status(http.StatusBadRequest, "invalid_request_error", message)
}

// Raw answers with status and body as they are.
func Raw(status int, body string) Reply { return Reply{Status: status, Body: []byte(body)} }

//go:embed testdata/*.json
var recorded embed.FS

// Recorded answers with a response body recorded from a real endpoint,
// testdata/NAME.json: "intent_answer", "tool_call", "summary".
func Recorded(name string) Reply {
	b, err := recorded.ReadFile(path.Join("testdata", name+".json"))
	if err != nil {
		panic(fmt.Sprintf("llmtest: no recorded response %q", name))
	}
	return Reply{Body: b, Header: http.Header{"X-Request-Id": {"req_recorded_" + name}}}
}

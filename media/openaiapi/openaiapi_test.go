package openaiapi

import (
	"errors"
	"strings"
	"testing"
)

func TestScrub(t *testing.T) {
	err := Scrub(errors.New("401: incorrect API key provided: sk-123"), "sk-123")
	if strings.Contains(err.Error(), "sk-123") || !strings.Contains(err.Error(), "[redacted]") {
		t.Errorf("scrubbed = %v", err)
	}
	plain := errors.New("500: down")
	if Scrub(plain, "sk-123") != plain || Scrub(nil, "k") != nil {
		t.Error("an error without the secret was changed")
	}
}

func TestClient(t *testing.T) {
	for _, tc := range []struct {
		e       Endpoint
		wantErr string
	}{
		{Endpoint{}, ""},
		{Endpoint{BaseURL: "http://127.0.0.1:1/v1/"}, ""},
		{Endpoint{APIType: "azure", BaseURL: "https://x.openai.azure.com"}, ""},
		{Endpoint{APIType: "azure"}, "tts: openai: an Azure endpoint needs its base URL"},
		{Endpoint{APIType: "bedrock"}, `tts: openai: unknown api type "bedrock"`},
	} {
		_, err := tc.e.Client("tts")
		if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%+v: err = %v, want %q", tc.e, err, tc.wantErr)
		}
	}
}

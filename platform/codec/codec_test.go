package codec

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/voxflow/voxflow/platform/config"
)

func key(t *testing.T, id string) config.CodecKey {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return config.CodecKey{ID: id, Key: k}
}

func dc(t *testing.T, keys ...config.CodecKey) converter.DataConverter {
	t.Helper()
	d, err := DataConverter(keys)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

const marker = "+15550001234"

func TestRoundTrip(t *testing.T) {
	d := dc(t, key(t, "k1"))
	p, err := d.ToPayload(map[string]string{"from": marker})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(p.Metadata[converter.MetadataEncoding]); got != EncodingEncrypted {
		t.Errorf("encoding %q, want %q", got, EncodingEncrypted)
	}
	if got := string(p.Metadata[MetadataKeyID]); got != "k1" {
		t.Errorf("key ID %q, want k1", got)
	}
	if bytes.Contains(p.Data, []byte(marker)) {
		t.Error("encrypted payload holds the value in clear")
	}
	var back map[string]string
	if err := d.FromPayload(p, &back); err != nil {
		t.Fatal(err)
	}
	if back["from"] != marker {
		t.Errorf("decoded %v", back)
	}
}

func TestRotation(t *testing.T) {
	k1, k2 := key(t, "k1"), key(t, "k2")
	old, err := dc(t, k1).ToPayload("old value")
	if err != nil {
		t.Fatal(err)
	}
	rotated := dc(t, k2, k1)
	var s string
	if err := rotated.FromPayload(old, &s); err != nil || s != "old value" {
		t.Fatalf("old payload after rotation: %q, %v", s, err)
	}
	p, err := rotated.ToPayload("new value")
	if err != nil {
		t.Fatal(err)
	}
	if got := string(p.Metadata[MetadataKeyID]); got != "k2" {
		t.Errorf("new payload encrypted with %q, want k2", got)
	}
}

func TestUnknownKey(t *testing.T) {
	p, err := dc(t, key(t, "gone")).ToPayload("x")
	if err != nil {
		t.Fatal(err)
	}
	var s string
	err = dc(t, key(t, "k2")).FromPayload(p, &s)
	if !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), `"gone"`) {
		t.Fatalf("err = %v, want ErrUnknownKey naming \"gone\"", err)
	}
}

func TestTampered(t *testing.T) {
	k := key(t, "k1")
	c, err := New([]config.CodecKey{k})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := c.Encode([]*commonpb.Payload{{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`"x"`)}})
	if err != nil {
		t.Fatal(err)
	}
	enc[0].Data[len(enc[0].Data)-1] ^= 1
	if _, err := c.Decode(enc); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("err = %v, want ErrDecrypt", err)
	}
	enc[0].Data = enc[0].Data[:3]
	if _, err := c.Decode(enc); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("short: err = %v, want ErrDecrypt", err)
	}
}

func TestPassThrough(t *testing.T) {
	plain, err := converter.GetDefaultDataConverter().ToPayload(marker)
	if err != nil {
		t.Fatal(err)
	}
	var s string
	if err := dc(t, key(t, "k1")).FromPayload(plain, &s); err != nil || s != marker {
		t.Fatalf("clear payload: %q, %v", s, err)
	}
}

func TestKeysFromFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", DevKeyFileName)
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	if created, err := EnsureKeyFile(path, now); err != nil || !created {
		t.Fatalf("EnsureKeyFile: %v, %v", created, err)
	}
	first, _ := os.ReadFile(path)
	if created, err := EnsureKeyFile(path, now); err != nil || created {
		t.Fatalf("second EnsureKeyFile: %v, %v (want kept)", created, err)
	}
	if again, _ := os.ReadFile(path); !bytes.Equal(first, again) {
		t.Fatal("EnsureKeyFile rewrote an existing file")
	}
	keys, err := Keys(config.Codec{KeyFile: path})
	if err != nil || len(keys) != 1 || keys[0].ID != "k20261207" {
		t.Fatalf("Keys = %v, %v", keys, err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Keys(config.Codec{KeyFile: path}); !errors.Is(err, ErrKeyFileOpen) {
		t.Fatalf("world-readable file: err = %v, want ErrKeyFileOpen", err)
	}
}

// Without keys, payloads go in clear and encrypted ones fail clearly.
func TestConverterKeyless(t *testing.T) {
	d, err := Converter(config.Codec{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := d.ToPayload(marker)
	if err != nil || string(p.Metadata[converter.MetadataEncoding]) != converter.MetadataEncodingJSON {
		t.Fatalf("keyless encode: %v %v, want clear JSON", p, err)
	}
	enc, err := dc(t, key(t, "k1")).ToPayload(marker)
	if err != nil {
		t.Fatal(err)
	}
	var s string
	if err := d.FromPayload(enc, &s); !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), "no payload keys") {
		t.Fatalf("keyless decode of an encrypted payload: %v", err)
	}
	inline := "a:" + base64.StdEncoding.EncodeToString(make([]byte, 32))
	if d, err := Converter(config.Codec{Keys: inline}); err != nil || d == nil {
		t.Fatalf("inline keys: %v, %v", d, err)
	}
}

package codec

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/voxflow/voxflow/platform/config"
)

// ErrKeyFileOpen is returned for a key file others may read.
var ErrKeyFileOpen = errors.New("payload key file is readable by others")

// DevKeyFileName is the key file `voxflow dev` keeps in its data dir.
const DevKeyFileName = "codec.keys"

// Keys loads the configured keys: inline, or from the key file, which must
// not be group- or world-accessible (as ssh insists for private keys). No
// key configured: nil, nil.
func Keys(c config.Codec) ([]config.CodecKey, error) {
	switch {
	case c.Keys != "":
		return config.ParseCodecKeys(c.Keys)
	case c.KeyFile == "":
		return nil, nil
	}
	fi, err := os.Stat(c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("payload keys (--codec-key-file): %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: permissions %#o for %s are too open (chmod 600 %s)", ErrKeyFileOpen, fi.Mode().Perm(), c.KeyFile, c.KeyFile)
	}
	text, err := os.ReadFile(c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("payload keys (--codec-key-file): %w", err)
	}
	keys, err := config.ParseCodecKeys(string(text))
	if err != nil {
		return nil, fmt.Errorf("payload keys in %s: %w", c.KeyFile, err)
	}
	return keys, nil
}

// PayloadCodec is the codec of the configured keys; with none, Keyless.
// The API's remote codec endpoint (Temporal UI and CLI) decodes with it.
func PayloadCodec(c config.Codec) (*Codec, error) {
	keys, err := Keys(c)
	switch {
	case err != nil:
		return nil, err
	case keys == nil:
		return Keyless(), nil
	}
	return New(keys)
}

// Converter is the data converter of the configured keys; with none, the
// Keyless one (payloads in clear, a clear error on encrypted ones).
func Converter(c config.Codec) (converter.DataConverter, error) {
	keys, err := Keys(c)
	switch {
	case err != nil:
		return nil, err
	case keys == nil:
		return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), Keyless()), nil
	}
	return DataConverter(keys)
}

// FailureConverter keeps errors' messages, stack traces and details
// encrypted with dc: error texts often quote call data (a URL with the
// caller's number), and the SDK's default stores them in clear.
func FailureConverter(dc converter.DataConverter) converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{DataConverter: dc, EncodeCommonAttributes: true})
}

// Apply sets o's data and failure converters to the configured keys'.
// With none, payloads and errors stay in clear (Keyless).
func Apply(o *client.Options, c config.Codec) error {
	dc, err := Converter(c)
	if err != nil {
		return err
	}
	o.DataConverter = dc
	if c.On() {
		o.FailureConverter = FailureConverter(dc)
	}
	return nil
}

// NewKeyLine is one fresh "id:base64key" line, the ID "k<yyyymmdd>".
func NewKeyLine(now time.Time) (string, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("new payload key: %w", err)
	}
	return "k" + now.UTC().Format("20060102") + ":" + base64.StdEncoding.EncodeToString(key), nil
}

// EnsureKeyFile creates path (mode 0600) holding one fresh key unless it
// exists; it says whether it created it.
func EnsureKeyFile(path string, now time.Time) (bool, error) {
	line, err := NewKeyLine(now)
	if err != nil {
		return false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return false, fmt.Errorf("payload key file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("payload key file: %w", err)
	}
	_, err = fmt.Fprintf(f, "# voxflow payload keys (id:base64key per line): the first encrypts and the others only decrypt\n%s\n", line)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, fmt.Errorf("write payload key file %s: %w", path, err)
	}
	return true, nil
}

// Package codec encrypts Temporal payloads (call variables, caller inputs,
// transcripts, results) with AES-256-GCM, so that workflow histories hold no
// call data in clear. Every process of a deployment uses the same keys: the
// first encrypts, the others still decrypt (rotation).
//
// The encoded form follows the convention of Temporal's encryption samples:
// metadata "encoding: binary/encrypted" and "encryption-key-id", data
// nonce||ciphertext of the marshalled original payload.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/voxflow/voxflow/platform/config"
)

// Metadata of an encrypted payload.
const (
	EncodingEncrypted = "binary/encrypted"
	MetadataKeyID     = "encryption-key-id"
)

// Sentinel errors.
var (
	ErrUnknownKey = errors.New("payload encrypted with a key this process does not have")
	ErrDecrypt    = errors.New("payload does not decrypt (tampered, or a different key with the same ID)")
	ErrNoKeys     = errors.New("no payload keys")
)

// Codec is a converter.PayloadCodec doing AES-256-GCM per payload.
type Codec struct {
	encID string                 // the key that encrypts ("": none, see Keyless)
	aeads map[string]cipher.AEAD // every key, by ID
}

// Keyless is the codec of a process with no keys: it writes payloads in
// clear and fails on encrypted ones with an error that says what to give
// it, where the SDK would only say the encoding is not supported.
func Keyless() *Codec { return &Codec{aeads: map[string]cipher.AEAD{}} }

var _ converter.PayloadCodec = (*Codec)(nil)

// New returns the codec of keys; the first one encrypts.
func New(keys []config.CodecKey) (*Codec, error) {
	if len(keys) == 0 {
		return nil, ErrNoKeys
	}
	c := &Codec{encID: keys[0].ID, aeads: make(map[string]cipher.AEAD, len(keys))}
	for _, k := range keys {
		block, err := aes.NewCipher(k.Key)
		if err != nil {
			return nil, fmt.Errorf("payload key %q: %w", k.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("payload key %q: %w", k.ID, err)
		}
		c.aeads[k.ID] = aead
	}
	return c, nil
}

// DataConverter is the default data converter with payloads encrypted by
// keys.
func DataConverter(keys []config.CodecKey) (converter.DataConverter, error) {
	c, err := New(keys)
	if err != nil {
		return nil, err
	}
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c), nil
}

// Encode encrypts each payload with the first key.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	if c.encID == "" {
		return payloads, nil
	}
	aead := c.aeads[c.encID]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := p.Marshal()
		if err != nil {
			return nil, fmt.Errorf("encrypt payload: %w", err)
		}
		nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return nil, fmt.Errorf("encrypt payload: nonce: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(EncodingEncrypted),
				MetadataKeyID:              []byte(c.encID),
			},
			Data: aead.Seal(nonce, nonce, plain, nil),
		}
	}
	return out, nil
}

// Decode decrypts encrypted payloads and passes others through, so
// histories written before encryption was turned on still read.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != EncodingEncrypted {
			out[i] = p
			continue
		}
		d, err := c.decrypt(p)
		if err != nil {
			return nil, err
		}
		out[i] = d
	}
	return out, nil
}

func (c *Codec) decrypt(p *commonpb.Payload) (*commonpb.Payload, error) {
	id := string(p.Metadata[MetadataKeyID])
	aead, ok := c.aeads[id]
	switch {
	case !ok && c.encID == "":
		return nil, fmt.Errorf("%w: key ID %q, and this process has no payload keys (give it --codec-key-file; voxflow dev keeps its key in <data dir>/%s)", ErrUnknownKey, id, DevKeyFileName)
	case !ok:
		return nil, fmt.Errorf("%w: key ID %q (give every process the same --codec-key-file)", ErrUnknownKey, id)
	}
	if len(p.Data) < aead.NonceSize() {
		return nil, fmt.Errorf("%w: key ID %q: too short", ErrDecrypt, id)
	}
	nonce, sealed := p.Data[:aead.NonceSize()], p.Data[aead.NonceSize():]
	plain, err := aead.Open(nil, nonce, sealed, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: key ID %q", ErrDecrypt, id)
	}
	var d commonpb.Payload
	if err := d.Unmarshal(plain); err != nil {
		return nil, fmt.Errorf("%w: key ID %q: %w", ErrDecrypt, id, err)
	}
	return &d, nil
}

package wav

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

const headerSize = 44

// header returns a 44-byte canonical 16-bit PCM WAV header.
func header(rate, channels int, dataBytes uint32) []byte {
	h := make([]byte, headerSize)
	le := binary.LittleEndian
	copy(h[0:], "RIFF")
	le.PutUint32(h[4:], 36+dataBytes)
	copy(h[8:], "WAVEfmt ")
	le.PutUint32(h[16:], 16)
	le.PutUint16(h[20:], FormatPCM)
	le.PutUint16(h[22:], uint16(channels))
	le.PutUint32(h[24:], uint32(rate))
	le.PutUint32(h[28:], uint32(rate*channels*2))
	le.PutUint16(h[32:], uint16(channels*2))
	le.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	le.PutUint32(h[40:], dataBytes)
	return h
}

func checkParams(rate, channels int) error {
	if rate < 1 || rate > MaxSampleRate {
		return fmt.Errorf("wav: cannot write sample rate %d Hz (1 to %d)", rate, MaxSampleRate)
	}
	if channels < 1 || channels > 2 {
		return fmt.Errorf("wav: cannot write %d channels (mono or stereo)", channels)
	}
	return nil
}

func samplesBytes(s []int16) []byte {
	b := make([]byte, 2*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	return b
}

// Write writes mono 16-bit PCM as a WAV stream.
func Write(w io.Writer, rate int, pcm []int16) error {
	if err := checkParams(rate, 1); err != nil {
		return err
	}
	if 2*int64(len(pcm)) > math.MaxUint32-36 {
		return fmt.Errorf("wav: %d samples do not fit in a WAV file", len(pcm))
	}
	if _, err := w.Write(header(rate, 1, uint32(2*len(pcm)))); err != nil {
		return fmt.Errorf("wav: writing header: %w", err)
	}
	if _, err := w.Write(samplesBytes(pcm)); err != nil {
		return fmt.Errorf("wav: writing samples: %w", err)
	}
	return nil
}

// WriteStereo writes two mono tracks as one stereo 16-bit PCM WAV stream,
// left then right (for recordings: caller left, agent right). The shorter
// track is padded with silence.
func WriteStereo(w io.Writer, rate int, left, right []int16) error {
	if err := checkParams(rate, 2); err != nil {
		return err
	}
	n := max(len(left), len(right))
	if 4*int64(n) > math.MaxUint32-36 {
		return fmt.Errorf("wav: %d frames do not fit in a WAV file", n)
	}
	inter := make([]int16, 2*n)
	for i := range n {
		if i < len(left) {
			inter[2*i] = left[i]
		}
		if i < len(right) {
			inter[2*i+1] = right[i]
		}
	}
	if _, err := w.Write(header(rate, 2, uint32(4*n))); err != nil {
		return fmt.Errorf("wav: writing header: %w", err)
	}
	if _, err := w.Write(samplesBytes(inter)); err != nil {
		return fmt.Errorf("wav: writing samples: %w", err)
	}
	return nil
}

// WriteFile writes mono 16-bit PCM to a WAV file, replacing it.
func WriteFile(path string, rate int, pcm []int16) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("wav: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("wav: closing %s: %w", path, cerr)
		}
	}()
	if err := Write(f, rate, pcm); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Writer streams 16-bit PCM to a WAV file whose length is not known in
// advance (a recording): it writes a header, appends frames, and on Close
// seeks back to fill in the sizes. It does not close the underlying file.
// A Writer is not safe for concurrent use.
type Writer struct {
	ws       io.WriteSeeker
	rate     int
	channels int
	bytes    int64
	closed   bool
}

// NewWriter writes a WAV header for rate and channels (1 or 2) to ws and
// returns a Writer positioned after it.
func NewWriter(ws io.WriteSeeker, rate, channels int) (*Writer, error) {
	if err := checkParams(rate, channels); err != nil {
		return nil, err
	}
	if _, err := ws.Write(header(rate, channels, 0)); err != nil {
		return nil, fmt.Errorf("wav: writing header: %w", err)
	}
	return &Writer{ws: ws, rate: rate, channels: channels}, nil
}

// WriteSamples appends samples, interleaved left/right for stereo.
func (w *Writer) WriteSamples(samples []int16) error {
	if w.closed {
		return errors.New("wav: write after Close")
	}
	if len(samples)%w.channels != 0 {
		return fmt.Errorf("wav: %d samples is not a whole number of %d-channel frames", len(samples), w.channels)
	}
	if w.bytes+2*int64(len(samples)) > math.MaxUint32-36 {
		return errors.New("wav: recording exceeds the 4 GiB WAV limit")
	}
	n, err := w.ws.Write(samplesBytes(samples))
	w.bytes += int64(n)
	if err != nil {
		return fmt.Errorf("wav: writing samples: %w", err)
	}
	return nil
}

// Frames returns the number of frames written so far.
func (w *Writer) Frames() int { return int(w.bytes) / (2 * w.channels) }

// Close fills in the header sizes and leaves the stream positioned at its
// end. It is safe to call more than once.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if _, err := w.ws.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("wav: seeking to header: %w", err)
	}
	if _, err := w.ws.Write(header(w.rate, w.channels, uint32(w.bytes))); err != nil {
		return fmt.Errorf("wav: rewriting header: %w", err)
	}
	if _, err := w.ws.Seek(0, io.SeekEnd); err != nil {
		return fmt.Errorf("wav: seeking to end: %w", err)
	}
	return nil
}

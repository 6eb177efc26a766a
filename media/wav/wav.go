// Package wav reads WAV files of common formats into 8 kHz mono 16-bit PCM
// (the telephony working format) and writes 16-bit PCM WAV files, mono or
// stereo.
//
// Reading accepts PCM (8, 16, 24 and 32 bit), IEEE float (32 and 64 bit),
// G.711 µ-law (format tag 7) and A-law (format tag 6), including their
// WAVE_FORMAT_EXTENSIBLE forms, with 1 to 8 channels at 4 kHz to 384 kHz.
// Channels are averaged to mono and the result is resampled with a
// Kaiser-windowed sinc low-pass filter (see Resample). Anything else is
// refused with an error wrapping ErrUnsupported that says what was found and
// how to convert it.
package wav

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/voxflow/voxflow/media/g711"
)

// Rate is the telephony sample rate that Read and ReadFile produce.
const Rate = 8000

// Format tags from the RIFF WAVE specification.
const (
	FormatPCM        uint16 = 0x0001
	FormatFloat      uint16 = 0x0003
	FormatALaw       uint16 = 0x0006
	FormatULaw       uint16 = 0x0007
	FormatExtensible uint16 = 0xFFFE
)

// Limits on what the parser accepts.
const (
	MinSampleRate = 4000
	MaxSampleRate = 384000
	MaxChannels   = 8
)

// MaxDataBytes bounds the audio data read from one file, so a hostile or
// broken header cannot make the reader allocate without limit.
const MaxDataBytes = 512 << 20

var (
	// ErrUnsupported is wrapped by errors about valid WAV files in a
	// format this package does not convert.
	ErrUnsupported = errors.New("unsupported WAV format")
	// ErrMalformed is wrapped by errors about input that is not a
	// well-formed WAV file.
	ErrMalformed = errors.New("malformed WAV file")
)

// Info describes the stored format of a WAV file.
type Info struct {
	FormatTag     uint16 // after resolving WAVE_FORMAT_EXTENSIBLE
	Channels      int
	SampleRate    int
	BitsPerSample int
	Frames        int // samples per channel
}

// String describes the format for logs, e.g. "PCM 16-bit stereo 44100 Hz".
func (i Info) String() string {
	ch := fmt.Sprintf("%d channels", i.Channels)
	switch i.Channels {
	case 1:
		ch = "mono"
	case 2:
		ch = "stereo"
	}
	return fmt.Sprintf("%s %d-bit %s %d Hz", formatName(i.FormatTag), i.BitsPerSample, ch, i.SampleRate)
}

func formatName(tag uint16) string {
	switch tag {
	case FormatPCM:
		return "PCM"
	case FormatFloat:
		return "IEEE float"
	case FormatALaw:
		return "A-law"
	case FormatULaw:
		return "µ-law"
	case 0x0002:
		return "MS ADPCM"
	case 0x0011:
		return "IMA ADPCM"
	case 0x0031:
		return "GSM 6.10"
	case 0x0055:
		return "MPEG layer 3"
	case 0x0064, 0x0040:
		return "G.721 ADPCM"
	case FormatExtensible:
		return "extensible"
	}
	return fmt.Sprintf("format 0x%04X", tag)
}

const convertHint = "convert it to 16-bit PCM, e.g. `sox in.wav -e signed-integer -b 16 out.wav`"

// Read parses a WAV stream and returns its audio as mono 16-bit PCM at
// 8000 Hz.
func Read(r io.Reader) ([]int16, error) {
	pcm, info, err := Decode(r)
	if err != nil {
		return nil, err
	}
	return Resample(pcm, info.SampleRate, Rate), nil
}

// ReadFile reads a WAV file as mono 16-bit PCM at 8000 Hz.
func ReadFile(path string) ([]int16, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("wav: %w", err)
	}
	defer f.Close()
	pcm, err := Read(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return pcm, nil
}

// Decode parses a WAV stream and returns its audio downmixed to mono 16-bit
// PCM at the file's own sample rate, with the stored format.
func Decode(r io.Reader) ([]int16, Info, error) {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, Info{}, fmt.Errorf("wav: reading RIFF header: %w: %w", ErrMalformed, err)
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		if string(hdr[0:4]) == "RF64" || string(hdr[0:4]) == "RIFX" {
			return nil, Info{}, fmt.Errorf("wav: %q container: %w (only little-endian RIFF is read; %s)", hdr[0:4], ErrUnsupported, convertHint)
		}
		return nil, Info{}, fmt.Errorf("wav: not a RIFF/WAVE file (starts with %q): %w", hdr[0:4], ErrMalformed)
	}

	var (
		info    Info
		haveFmt bool
		chunk   [8]byte
	)
	for {
		if _, err := io.ReadFull(r, chunk[:]); err != nil {
			if !haveFmt {
				return nil, Info{}, fmt.Errorf("wav: no fmt chunk before end of file: %w", ErrMalformed)
			}
			return nil, Info{}, fmt.Errorf("wav: no data chunk before end of file: %w", ErrMalformed)
		}
		id := string(chunk[0:4])
		size := int64(binary.LittleEndian.Uint32(chunk[4:8]))
		switch id {
		case "fmt ":
			if haveFmt {
				return nil, Info{}, fmt.Errorf("wav: second fmt chunk: %w", ErrMalformed)
			}
			var err error
			if info, err = readFmt(r, size); err != nil {
				return nil, Info{}, err
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return nil, Info{}, fmt.Errorf("wav: data chunk before fmt chunk: %w", ErrMalformed)
			}
			// Writers that stream (and cannot seek back) leave the size
			// as 0 or 0xFFFFFFFF: then the data runs to end of file.
			if size == 0 || size == 0xFFFFFFFF {
				size = MaxDataBytes + 1
			}
			data, err := io.ReadAll(io.LimitReader(r, min(size, MaxDataBytes+1)))
			if err != nil {
				return nil, Info{}, fmt.Errorf("wav: reading data chunk: %w", err)
			}
			if len(data) > MaxDataBytes {
				return nil, Info{}, fmt.Errorf("wav: data larger than %d MiB: %w", MaxDataBytes>>20, ErrUnsupported)
			}
			pcm := toMono(data, info)
			info.Frames = len(pcm)
			return pcm, info, nil
		default:
			// LIST, fact, cue and others: skip, including the pad
			// byte of odd-sized chunks.
			if _, err := io.CopyN(io.Discard, r, size+size&1); err != nil {
				return nil, Info{}, fmt.Errorf("wav: skipping %q chunk: %w: %w", id, ErrMalformed, err)
			}
		}
	}
}

// extensible sub-format GUIDs end with this suffix; the first two bytes are
// the format tag.
var guidSuffix = [14]byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}

func readFmt(r io.Reader, size int64) (Info, error) {
	if size < 16 || size > 1024 {
		return Info{}, fmt.Errorf("wav: fmt chunk of %d bytes (want 16 to 1024): %w", size, ErrMalformed)
	}
	b := make([]byte, size+size&1)
	if _, err := io.ReadFull(r, b); err != nil {
		return Info{}, fmt.Errorf("wav: reading fmt chunk: %w: %w", ErrMalformed, err)
	}
	le := binary.LittleEndian
	info := Info{
		FormatTag:     le.Uint16(b[0:2]),
		Channels:      int(le.Uint16(b[2:4])),
		SampleRate:    int(le.Uint32(b[4:8])),
		BitsPerSample: int(le.Uint16(b[14:16])),
	}
	blockAlign := int(le.Uint16(b[12:14]))
	if info.FormatTag == FormatExtensible {
		if size < 40 {
			return Info{}, fmt.Errorf("wav: extensible fmt chunk of %d bytes (want 40): %w", size, ErrMalformed)
		}
		if [14]byte(b[26:40]) != guidSuffix {
			return Info{}, fmt.Errorf("wav: extensible sub-format with a non-standard GUID: %w (%s)", ErrUnsupported, convertHint)
		}
		info.FormatTag = le.Uint16(b[24:26])
		// The container size is what matters for unpacking; valid bits
		// (b[18:20]) only says how many of them carry signal.
	}

	switch {
	case info.Channels < 1 || info.Channels > MaxChannels:
		return Info{}, fmt.Errorf("wav: %d channels: %w (1 to %d are read)", info.Channels, ErrUnsupported, MaxChannels)
	case info.SampleRate < MinSampleRate || info.SampleRate > MaxSampleRate:
		return Info{}, fmt.Errorf("wav: sample rate %d Hz: %w (%d to %d Hz are read)", info.SampleRate, ErrUnsupported, MinSampleRate, MaxSampleRate)
	}
	var okBits bool
	switch info.FormatTag {
	case FormatPCM:
		okBits = info.BitsPerSample == 8 || info.BitsPerSample == 16 || info.BitsPerSample == 24 || info.BitsPerSample == 32
	case FormatFloat:
		okBits = info.BitsPerSample == 32 || info.BitsPerSample == 64
	case FormatULaw, FormatALaw:
		okBits = info.BitsPerSample == 8
	default:
		return Info{}, fmt.Errorf("wav: %s audio: %w (PCM, IEEE float, µ-law and A-law are read; %s)", formatName(info.FormatTag), ErrUnsupported, convertHint)
	}
	if !okBits {
		return Info{}, fmt.Errorf("wav: %s with %d bits per sample: %w (%s)", formatName(info.FormatTag), info.BitsPerSample, ErrUnsupported, convertHint)
	}
	if want := info.Channels * info.BitsPerSample / 8; blockAlign != want {
		return Info{}, fmt.Errorf("wav: block align %d, want %d for %d channels of %d bits: %w", blockAlign, want, info.Channels, info.BitsPerSample, ErrMalformed)
	}
	return info, nil
}

// toMono unpacks whole frames of data (a trailing partial frame is dropped)
// and averages the channels.
func toMono(data []byte, info Info) []int16 {
	bps := info.BitsPerSample / 8
	ch := info.Channels
	frames := len(data) / (bps * ch)
	out := make([]int16, frames)
	le := binary.LittleEndian
	sample := func(b []byte) int32 {
		switch info.FormatTag {
		case FormatULaw:
			return int32(g711.ULawToLinear(b[0]))
		case FormatALaw:
			return int32(g711.ALawToLinear(b[0]))
		case FormatFloat:
			var f float64
			if bps == 4 {
				f = float64(math.Float32frombits(le.Uint32(b)))
			} else {
				f = math.Float64frombits(le.Uint64(b))
			}
			if f != f { // NaN
				return 0
			}
			return int32(math.Round(max(-1, min(1, f)) * 32767))
		}
		switch bps {
		case 1:
			return (int32(b[0]) - 128) << 8
		case 2:
			return int32(int16(le.Uint16(b)))
		case 3:
			return int32(int16(uint16(b[1]) | uint16(b[2])<<8))
		default:
			return int32(int16(le.Uint16(b[2:])))
		}
	}
	for i := range frames {
		frame := data[i*bps*ch:]
		var sum int32
		for c := range ch {
			sum += sample(frame[c*bps:])
		}
		out[i] = int16(sum / int32(ch))
	}
	return out
}

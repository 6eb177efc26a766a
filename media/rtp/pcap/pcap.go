// Package pcap reads classic libpcap capture files far enough to get UDP
// payloads out of them: enough to replay SIPp's stock RTP captures in tests and
// to inspect captures from the field, without cgo or a libpcap dependency.
//
// Supported: both byte orders, microsecond and nanosecond timestamps; link
// types Ethernet (with 802.1Q tags), Linux cooked v1 and v2, raw IP and BSD
// loopback; IPv4 (unfragmented) and IPv6 without extension headers; UDP.
// pcapng is not supported.
package pcap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"time"
)

// Link types (http://www.tcpdump.org/linktypes.html).
const (
	LinkTypeNull      uint32 = 0
	LinkTypeEthernet  uint32 = 1
	LinkTypeRaw       uint32 = 101
	LinkTypeLinuxSLL  uint32 = 113
	LinkTypeLinuxSLL2 uint32 = 276
)

// maxRecord bounds one record so a corrupt length cannot make us allocate
// gigabytes; real captures top out at the 256 KiB snaplen tcpdump uses.
const maxRecord = 256 << 10

// ErrNotUDP is returned by DecodeUDP for frames that are not IPv4/IPv6 UDP.
var ErrNotUDP = errors.New("pcap: not a UDP packet")

// Reader reads records from a classic pcap file.
type Reader struct {
	r        io.Reader
	order    binary.ByteOrder
	nano     bool
	linkType uint32
	hdr      [16]byte
}

// NewReader reads the file header.
func NewReader(r io.Reader) (*Reader, error) {
	var h [24]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, fmt.Errorf("pcap: read file header: %w", err)
	}
	pr := &Reader{r: r}
	switch m := binary.LittleEndian.Uint32(h[:4]); m {
	case 0xa1b2c3d4:
		pr.order = binary.LittleEndian
	case 0xa1b23c4d:
		pr.order, pr.nano = binary.LittleEndian, true
	case 0xd4c3b2a1:
		pr.order = binary.BigEndian
	case 0x4d3cb2a1:
		pr.order, pr.nano = binary.BigEndian, true
	case 0x0a0d0d0a:
		return nil, errors.New("pcap: file is pcapng; convert with: editcap -F pcap in.pcapng out.pcap")
	default:
		return nil, fmt.Errorf("pcap: bad magic %#08x", m)
	}
	if major := pr.order.Uint16(h[4:6]); major != 2 {
		return nil, fmt.Errorf("pcap: unsupported version %d", major)
	}
	// The low 16 bits are the link type; the upper bits carry FCS flags.
	pr.linkType = pr.order.Uint32(h[20:24]) & 0xffff
	return pr, nil
}

// LinkType is the capture's link-layer header type.
func (r *Reader) LinkType() uint32 { return r.linkType }

// Record is one captured frame.
type Record struct {
	Time    time.Time
	OrigLen int    // length on the wire
	Data    []byte // captured bytes, possibly truncated to the snaplen
}

// Next returns the next record, or io.EOF at a clean end of file.
func (r *Reader) Next() (Record, error) {
	if _, err := io.ReadFull(r.r, r.hdr[:]); err != nil {
		if err == io.EOF {
			return Record{}, io.EOF
		}
		return Record{}, fmt.Errorf("pcap: read record header: %w", err)
	}
	sec := r.order.Uint32(r.hdr[0:4])
	frac := r.order.Uint32(r.hdr[4:8])
	incl := r.order.Uint32(r.hdr[8:12])
	orig := r.order.Uint32(r.hdr[12:16])
	if incl > maxRecord {
		return Record{}, fmt.Errorf("pcap: record length %d over %d", incl, maxRecord)
	}
	data := make([]byte, incl)
	if _, err := io.ReadFull(r.r, data); err != nil {
		return Record{}, fmt.Errorf("pcap: read %d-byte record: %w", incl, err)
	}
	ns := int64(frac) * 1000
	if r.nano {
		ns = int64(frac)
	}
	return Record{Time: time.Unix(int64(sec), ns).UTC(), OrigLen: int(orig), Data: data}, nil
}

// UDP is one UDP datagram taken out of a capture.
type UDP struct {
	Time     time.Time
	Src, Dst netip.AddrPort
	Payload  []byte
}

// NextUDP returns the next UDP datagram, skipping frames that are not UDP.
// Malformed frames are errors: a capture used as test input should be clean.
func (r *Reader) NextUDP() (UDP, error) {
	for {
		rec, err := r.Next()
		if err != nil {
			return UDP{}, err
		}
		u, err := DecodeUDP(r.linkType, rec.Data)
		if errors.Is(err, ErrNotUDP) {
			continue
		}
		if err != nil {
			return UDP{}, fmt.Errorf("pcap: record at %v: %w", rec.Time, err)
		}
		u.Time = rec.Time
		return u, nil
	}
}

// ReadUDPFile returns every UDP datagram in the capture at path.
func ReadUDPFile(path string) ([]UDP, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []UDP
	for {
		u, err := r.NextUDP()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, u)
	}
}

// DecodeUDP extracts the UDP datagram from one frame of the given link type.
// It returns ErrNotUDP (wrapped) for well-formed frames of other protocols.
func DecodeUDP(linkType uint32, frame []byte) (UDP, error) {
	var etherType uint16
	var ip []byte
	switch linkType {
	case LinkTypeEthernet:
		if len(frame) < 14 {
			return UDP{}, fmt.Errorf("ethernet header truncated at %d bytes", len(frame))
		}
		etherType, ip = binary.BigEndian.Uint16(frame[12:14]), frame[14:]
		for etherType == 0x8100 || etherType == 0x88a8 { // 802.1Q / 802.1ad tags
			if len(ip) < 4 {
				return UDP{}, errors.New("vlan tag truncated")
			}
			etherType, ip = binary.BigEndian.Uint16(ip[2:4]), ip[4:]
		}
	case LinkTypeLinuxSLL:
		if len(frame) < 16 {
			return UDP{}, fmt.Errorf("linux cooked header truncated at %d bytes", len(frame))
		}
		etherType, ip = binary.BigEndian.Uint16(frame[14:16]), frame[16:]
	case LinkTypeLinuxSLL2:
		if len(frame) < 20 {
			return UDP{}, fmt.Errorf("linux cooked v2 header truncated at %d bytes", len(frame))
		}
		etherType, ip = binary.BigEndian.Uint16(frame[0:2]), frame[20:]
	case LinkTypeRaw:
		if len(frame) == 0 {
			return UDP{}, errors.New("empty raw IP frame")
		}
		etherType, ip = versionEtherType(frame[0]), frame
	case LinkTypeNull:
		if len(frame) < 4 {
			return UDP{}, errors.New("loopback header truncated")
		}
		// The family is in host order of the capturing machine; the IP
		// version nibble is the reliable signal.
		ip = frame[4:]
		if len(ip) == 0 {
			return UDP{}, errors.New("empty loopback frame")
		}
		etherType = versionEtherType(ip[0])
	default:
		return UDP{}, fmt.Errorf("unsupported link type %d", linkType)
	}
	switch etherType {
	case 0x0800:
		return decodeIPv4(ip)
	case 0x86dd:
		return decodeIPv6(ip)
	}
	return UDP{}, fmt.Errorf("%w: ethertype %#04x", ErrNotUDP, etherType)
}

func versionEtherType(b byte) uint16 {
	switch b >> 4 {
	case 4:
		return 0x0800
	case 6:
		return 0x86dd
	}
	return 0
}

func decodeIPv4(b []byte) (UDP, error) {
	if len(b) < 20 || b[0]>>4 != 4 {
		return UDP{}, errors.New("ipv4 header truncated or wrong version")
	}
	ihl := int(b[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(b[2:4]))
	if ihl < 20 || total < ihl || len(b) < ihl {
		return UDP{}, fmt.Errorf("ipv4 header length %d total %d in %d bytes", ihl, total, len(b))
	}
	if b[9] != 17 {
		return UDP{}, fmt.Errorf("%w: ip protocol %d", ErrNotUDP, b[9])
	}
	if flags := binary.BigEndian.Uint16(b[6:8]); flags&0x3fff != 0 {
		// More-fragments or a fragment offset: reassembly is out of scope.
		return UDP{}, errors.New("ipv4 fragment")
	}
	if total < len(b) {
		b = b[:total] // drop Ethernet padding
	}
	src, _ := netip.AddrFromSlice(b[12:16])
	dst, _ := netip.AddrFromSlice(b[16:20])
	return decodeUDP(src, dst, b[ihl:])
}

func decodeIPv6(b []byte) (UDP, error) {
	if len(b) < 40 || b[0]>>4 != 6 {
		return UDP{}, errors.New("ipv6 header truncated or wrong version")
	}
	if b[6] != 17 {
		return UDP{}, fmt.Errorf("%w: ipv6 next header %d", ErrNotUDP, b[6])
	}
	if plen := int(binary.BigEndian.Uint16(b[4:6])); 40+plen < len(b) {
		b = b[:40+plen]
	}
	src, _ := netip.AddrFromSlice(b[8:24])
	dst, _ := netip.AddrFromSlice(b[24:40])
	return decodeUDP(src, dst, b[40:])
}

func decodeUDP(src, dst netip.Addr, b []byte) (UDP, error) {
	if len(b) < 8 {
		return UDP{}, fmt.Errorf("udp header truncated at %d bytes", len(b))
	}
	ulen := int(binary.BigEndian.Uint16(b[4:6]))
	if ulen < 8 || ulen > len(b) {
		// Also catches captures truncated by the snaplen: a partial RTP
		// payload would decode as garbage further up.
		return UDP{}, fmt.Errorf("udp length %d with %d bytes captured", ulen, len(b))
	}
	return UDP{
		Src:     netip.AddrPortFrom(src, binary.BigEndian.Uint16(b[0:2])),
		Dst:     netip.AddrPortFrom(dst, binary.BigEndian.Uint16(b[2:4])),
		Payload: b[8:ulen],
	}, nil
}

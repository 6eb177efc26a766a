// Package rtp holds the RTP-level pieces of the media worker that sit between
// a UDP socket and the codecs: RFC 4733 telephone-events in and out, a paced
// sender, a receive-side jitter buffer, RTCP sender/receiver reports and a
// source-address filter.
//
// Packets are marshalled with github.com/pion/rtp; nothing here opens sockets,
// so every piece is testable without a network and usable over any transport
// that can write a []byte.
package rtp

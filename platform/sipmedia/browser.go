package sipmedia

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/media/text"

	"github.com/voxflow/voxflow/media/browser"
	"github.com/voxflow/voxflow/media/sipworker"
	"github.com/voxflow/voxflow/media/webrtc"
	"github.com/voxflow/voxflow/platform/config"
)

// BrowserDeps are what the browser channels' signalling is built on.
type BrowserDeps struct {
	// ScreenPop and Journal: see browser.Config (platform.ScreenPopper and
	// the store's call journal fit).
	ScreenPop func(ctx context.Context, callID string) (json.RawMessage, error)
	Journal   func(ctx context.Context, e browser.JournalEntry) error
	// Loopback also offers 127.0.0.1 candidates (voxflow dev: a browser on
	// the same machine).
	Loopback bool
	Logger   *slog.Logger
	// Web chat: see browser.Config (all of Chat, Routes and StartCall, or
	// no chat).
	Chat           *text.Channel
	Routes         activities.Routes
	StartCall      func(ctx context.Context, call activities.CallStart) error
	SaveTranscript func(ctx context.Context, callID string, lines []records.ChatLine) error
}

// Browser builds the signalling of browser calls, agents' desktops and
// supervisors on this worker: WebRTC with the worker's codecs and the
// configured ICE network.
func (m *Media) Browser(cfg config.WebRTC, d BrowserDeps) (*browser.Server, error) {
	lo, hi, err := cfg.UDPRange()
	if err != nil {
		return nil, fmt.Errorf("media.webrtc.udp_ports: %w", err)
	}
	var codecs []webrtc.Codec
	for _, c := range sipworker.WebCodecs() {
		codecs = append(codecs, webrtc.Codec(c))
	}
	tr, err := webrtc.New(webrtc.Config{
		Codecs: codecs, ICEServers: config.List(cfg.ICEServers), ICEUsername: cfg.ICEUsername, ICECredential: cfg.ICECredential,
		PublicIPs: config.List(cfg.PublicIPs), UDPPortMin: uint16(lo), UDPPortMax: uint16(hi), Loopback: d.Loopback,
	})
	if err != nil {
		return nil, err
	}
	log := d.Logger
	if log == nil {
		log = m.log
	}
	return browser.New(browser.Config{
		Transport: tr, Worker: m.SIP, ScreenPop: d.ScreenPop, Journal: d.Journal,
		Origins: config.List(cfg.Origins), Logger: log,
		Chat: d.Chat, Routes: d.Routes, StartCall: d.StartCall, SaveTranscript: d.SaveTranscript,
	}), nil
}

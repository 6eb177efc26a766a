package sipworker

import (
	"net/netip"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media/sdp"
	"github.com/emiago/sipgo/sip"
)

// Hold: the caller's re-INVITE with a=sendonly (or a=inactive, or the old
// c=0.0.0.0) holds the call. diago answers it (a=recvonly / a=inactive)
// and swaps the RTP session; the worker then sends no RTP to the held
// party (prompts keep their time, nobody hears them) while still taking
// its key presses. A re-INVITE with a=sendrecv resumes.

// noteOffer remembers the media direction a caller's re-INVITE asks for;
// mediaUpdated applies it once diago accepted the offer.
func (w *Worker) noteOffer(req *sip.Request) {
	if len(req.Body()) == 0 {
		return
	}
	s := w.sessionBySIP(req.CallID().Value())
	if s == nil {
		return
	}
	sd := sdp.SessionDescription{}
	if err := sdp.Unmarshal(req.Body(), &sd); err != nil {
		return
	}
	s.offeredDir.Store(sd.MediaDirection())
}

// mediaUpdated follows a re-INVITE: RTP is accepted from the new address
// and sending stops while the caller holds the call.
func (s *session) mediaUpdated(m *diago.DialogMedia) {
	ms := m.MediaSession()
	if ms == nil {
		return
	}
	remote, _ := netip.ParseAddrPort(ms.Raddr.String())
	dir, _ := s.offeredDir.Load().(string)
	zero := remote.IsValid() && remote.Addr().IsUnspecified() // RFC 2543 hold
	held := dir == sdp.ModeSendonly || dir == sdp.ModeInactive || zero
	if !zero {
		s.source.SetRemote(remote)
	}
	if was := s.held.Swap(held); was != held {
		if held {
			s.log.Info("call held", "direction", dir)
		} else {
			s.log.Info("call resumed", "remote", remote)
		}
		return
	}
	s.log.Info("media updated", "remote", remote)
}

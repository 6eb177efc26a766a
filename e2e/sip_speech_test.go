package e2e

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	prtp "github.com/pion/rtp"

	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/media/asr"
	"github.com/voxflow/voxflow/media/g711"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
	"github.com/voxflow/voxflow/media/tts"
)

// spokenPcap is PCMU RTP of a caller who waits lead, says text (espeak-ng)
// and then stays silent for 1.5 s.
func spokenPcap(t *testing.T, lead time.Duration, text string) []byte {
	t.Helper()
	pcm := append(silence(lead), spoken(t, text)...)
	return pcmPcap(t, append(pcm, silence(1500*time.Millisecond)...))
}

func silence(d time.Duration) []int16 { return make([]int16, int(d/time.Millisecond)*8) }

// spoken is text said by espeak-ng, 8 kHz.
func spoken(t *testing.T, text string) []int16 {
	t.Helper()
	if _, err := exec.LookPath(tts.EspeakCommand); err != nil {
		t.Fatal("espeak-ng is not installed: run scripts/test (which installs it), or apt-get install espeak-ng")
	}
	if err := asr.NewPocketsphinx("").Check(); err != nil {
		t.Fatalf("%v: run scripts/test (which installs it), or apt-get install pocketsphinx pocketsphinx-en-us", err)
	}
	speech, err := tts.NewEspeak("").Synthesize(context.Background(), text, "", "en-US")
	if err != nil {
		t.Fatal(err)
	}
	return speech
}

// pcmPcap is PCMU RTP of pcm, one packet each 20 ms.
func pcmPcap(t *testing.T, pcm []int16) []byte {
	t.Helper()
	var pkts [][]byte
	for i := 0; i+160 <= len(pcm); i += 160 {
		payload := make([]byte, 160)
		g711.EncodeULaw(payload, pcm[i:i+160])
		pkt := prtp.Packet{Header: prtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(1 + i/160),
			Timestamp: uint32(i), SSRC: 0x51ee, Marker: i == 0}, Payload: payload}
		b, err := pkt.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		pkts = append(pkts, b)
	}
	return sipptest.RTPPcap(pkts, 20*time.Millisecond)
}

// A SIPp caller of the support line says "billing" at the main menu (no
// key): the call takes the billing option, as the DTMF caller of
// TestSIPSupportLineVoicemailHangup does with key 2.
func TestSIPSupportLineSpeech(t *testing.T) {
	s := newSIPStack(t)
	res := sipptest.Run(t, sipptest.Call{Scenario: sipptest.Scenario(t, "uac_speech_menu.xml"), Target: s.addr, Service: "1000",
		Timeout: 40 * time.Second, Files: map[string][]byte{"speech_menu.pcap": spokenPcap(t, time.Second, "billing")}})
	if res.Err != nil {
		t.Fatalf("%v\n%s", res.Err, res.Output)
	}
	rec := s.cdr("support-line", "+15550102")
	if got, want := pathOf(rec), "welcome>office_hours>lookup>vip_check>main_menu>to_billing>agent_queue>voicemail>wrap_up"; got != want {
		t.Errorf("path = %s, want %s", got, want)
	}
	for _, st := range rec.Path {
		if st.Node == "main_menu" && !strings.EqualFold(st.Input, "billing") {
			t.Errorf("main_menu input = %q, want the phrase billing", st.Input)
		}
	}
	if rec.Vars["department"] != "billing" || rec.Outcome != records.OutcomeHungUp {
		t.Errorf("department %v outcome %s", rec.Vars["department"], rec.Outcome)
	}
	s.idle()
}

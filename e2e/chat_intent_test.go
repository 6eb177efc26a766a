package e2e

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/voxflow/voxflow/activities"
)

// A web chat customer of the billing line types what they want: the
// intent node asks for the account, which they type, and the flow takes
// the payment exit, as a caller's speech does.
func TestWebChatIntent(t *testing.T) {
	billing := example(t, "billing-line")
	st, srv := startChatRig(t, billing.Name, billing.Source, "5000")
	hs := httptest.NewServer(http.HandlerFunc(srv.ServeChat))
	cust := chatDial(t, hs.URL+"?number=5000&from=Ann")
	defer func() {
		cust.ws.CloseNow()
		srv.Close()
		hs.Close()
	}()
	cust.send(map[string]string{"type": "start"})
	callID := cust.expect("chat").CallID
	cust.expectLine("flow", "Welcome to Acme billing. In a few words, what are you calling about? For example: pay my bill, or what is my balance.")
	cust.expect("listen")
	cust.send(map[string]string{"type": "message", "text": "I would like to pay my bill"})
	cust.expectLine("you", "I would like to pay my bill")
	cust.expectLine("flow", "Sure. What is your account number? You can say it or key it in, then press hash.")
	cust.expect("listen")
	cust.send(map[string]string{"type": "message", "text": "101"})
	cust.expectLine("you", "101")
	cust.expectLine("flow", "Thank you. We are sending a secure payment link for account 101 to your phone now.")

	rec := chatCDR(t, st, callID)
	if got := pathOf(rec); got != "understand>payment_link>goodbye" || rec.Vars["account"] != "101" || rec.Channel != "chat" {
		t.Fatalf("path %s, account %v, channel %s", got, rec.Vars["account"], rec.Channel)
	}
	if ai := rec.Path[0].AI; len(ai) != 1 || ai[0].Intent != "pay_bill" || ai[0].Source != activities.SourceOffline {
		t.Errorf("AI turns = %+v", ai)
	}
}

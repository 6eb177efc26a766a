package sipworker

import (
	"context"

	"github.com/emiago/sipgo/sip"

	"github.com/voxflow/voxflow/media/registrar"
)

// Registrar answers REGISTER requests of agents' phones and finds where a
// registered agent can be called. *registrar.Registrar implements it; over
// platform/sipmedia.RegistrarStore an agent registered on one worker is
// found from all.
type Registrar interface {
	ServeRegister(req *sip.Request, tx sip.ServerTransaction)
	// Lookup returns the agent's live contacts, or an error wrapping
	// registrar.ErrNotRegistered.
	Lookup(ctx context.Context, user string) ([]registrar.Contact, error)
}

// serveRegister routes REGISTER to the configured registrar. Without one
// REGISTER is left to sipgo's default: 405 Method Not Allowed.
func (w *Worker) serveRegister() {
	if w.cfg.Registrar == nil {
		return
	}
	w.srv.OnRegister(w.unbanned(w.cfg.Registrar.ServeRegister))
}

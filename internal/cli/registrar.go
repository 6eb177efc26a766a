package cli

import (
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/voxflow/voxflow/media/registrar"
	"github.com/voxflow/voxflow/media/sipworker"
	"github.com/voxflow/voxflow/store"
)

// registrarFlags are the media worker's SIP registrar settings.
type registrarFlags struct {
	enabled bool
	realm   string
}

func (f *registrarFlags) register(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.enabled, "registrar", true,
		"answer REGISTER from agents' phones with the accounts of 'voxflow agents' (bindings kept in --store, shared by every worker); false answers 405")
	cmd.Flags().StringVar(&f.realm, "realm", registrar.DefaultRealm, "SIP digest realm of the registrar (agents must be added with the same --realm)")
}

// build returns the registrar for a worker, or nil when disabled.
func (f *registrarFlags) build(s *store.Store, workerID string, log *slog.Logger) (sipworker.Registrar, error) {
	if !f.enabled {
		return nil, nil
	}
	backend := registrar.StoreBackend{Store: s}
	r, err := registrar.New(registrar.Config{Realm: f.realm, Accounts: backend, Locations: backend, WorkerID: workerID, Logger: log})
	if err != nil {
		return nil, err
	}
	return r, nil
}

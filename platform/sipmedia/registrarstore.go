package registrar

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/voxflow/voxflow/store"
)

// StoreBackend keeps accounts and bindings in the voxflow store
// (store.SIPAccount, store.Registration), shared by every media worker on
// the same database. It implements Accounts and Locations.
type StoreBackend struct {
	Store *store.Store
}

var (
	_ Accounts  = StoreBackend{}
	_ Locations = StoreBackend{}
)

// Account implements Accounts.
func (b StoreBackend) Account(ctx context.Context, username string) (Account, error) {
	a, err := b.Store.SIPAccount(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		return Account{}, fmt.Errorf("%w: %q", ErrUnknownAccount, username)
	}
	if err != nil {
		return Account{}, err
	}
	return Account{Username: a.Username, Realm: a.Realm, HA1: a.HA1, DisplayName: a.DisplayName, Enabled: a.Enabled}, nil
}

func fromRegistration(r store.Registration) Contact {
	return Contact{
		User: r.Username, URI: r.Contact, Source: r.Source, Transport: r.Transport, Expires: r.ExpiresAt,
		WorkerID: r.WorkerID, CallID: r.CallID, CSeq: r.CSeq, UserAgent: r.UserAgent,
	}
}

func toRegistration(c Contact) store.Registration {
	return store.Registration{
		Username: c.User, Contact: c.URI, Source: c.Source, Transport: c.Transport, ExpiresAt: c.Expires,
		WorkerID: c.WorkerID, CallID: c.CallID, CSeq: c.CSeq, UserAgent: c.UserAgent,
	}
}

func fromRegistrations(rs []store.Registration) []Contact {
	out := make([]Contact, len(rs))
	for i, r := range rs {
		out[i] = fromRegistration(r)
	}
	return out
}

// Contacts implements Locations.
func (b StoreBackend) Contacts(ctx context.Context, user string, now time.Time) ([]Contact, error) {
	if user == "" {
		return []Contact{}, nil // the store reads "" as everyone
	}
	rs, err := b.Store.LiveRegistrations(ctx, user, now)
	if err != nil {
		return nil, err
	}
	return fromRegistrations(rs), nil
}

// Update implements Locations. A user with no account fails with
// ErrUnknownAccount.
func (b StoreBackend) Update(ctx context.Context, user string, now time.Time, fn func(live []Contact) (Change, error)) ([]Contact, error) {
	rs, err := b.Store.UpdateRegistrations(ctx, user, now, func(live []store.Registration) (store.RegistrationChange, error) {
		ch, err := fn(fromRegistrations(live))
		if err != nil {
			return store.RegistrationChange{}, err
		}
		out := store.RegistrationChange{Remove: ch.Remove}
		for _, c := range ch.Put {
			out.Put = append(out.Put, toRegistration(c))
		}
		return out, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: %q", ErrUnknownAccount, user)
	}
	if err != nil {
		return nil, err
	}
	return fromRegistrations(rs), nil
}

// Purge implements Locations.
func (b StoreBackend) Purge(ctx context.Context, now time.Time) (int64, error) {
	return b.Store.PurgeRegistrations(ctx, now)
}

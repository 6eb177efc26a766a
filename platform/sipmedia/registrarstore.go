package sipmedia

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/voxflow/voxflow/media/registrar"
	"github.com/voxflow/voxflow/store"
)

// RegistrarStore keeps the registrar's accounts and bindings in the
// voxflow store (store.SIPAccount, store.Registration), shared by every
// media worker on the same database. It implements registrar.Accounts and
// registrar.Locations.
type RegistrarStore struct {
	Store *store.Store
}

var (
	_ registrar.Accounts  = RegistrarStore{}
	_ registrar.Locations = RegistrarStore{}
)

// Account implements registrar.Accounts.
func (b RegistrarStore) Account(ctx context.Context, username string) (registrar.Account, error) {
	a, err := b.Store.SIPAccount(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		return registrar.Account{}, fmt.Errorf("%w: %q", registrar.ErrUnknownAccount, username)
	}
	if err != nil {
		return registrar.Account{}, err
	}
	return registrar.Account{Username: a.Username, Realm: a.Realm, HA1: a.HA1, DisplayName: a.DisplayName, Enabled: a.Enabled}, nil
}

func fromRegistration(r store.Registration) registrar.Contact {
	return registrar.Contact{
		User: r.Username, URI: r.Contact, Source: r.Source, Transport: r.Transport, Expires: r.ExpiresAt,
		WorkerID: r.WorkerID, CallID: r.CallID, CSeq: r.CSeq, UserAgent: r.UserAgent,
	}
}

func toRegistration(c registrar.Contact) store.Registration {
	return store.Registration{
		Username: c.User, Contact: c.URI, Source: c.Source, Transport: c.Transport, ExpiresAt: c.Expires,
		WorkerID: c.WorkerID, CallID: c.CallID, CSeq: c.CSeq, UserAgent: c.UserAgent,
	}
}

func fromRegistrations(rs []store.Registration) []registrar.Contact {
	out := make([]registrar.Contact, len(rs))
	for i, r := range rs {
		out[i] = fromRegistration(r)
	}
	return out
}

// Contacts implements registrar.Locations.
func (b RegistrarStore) Contacts(ctx context.Context, user string, now time.Time) ([]registrar.Contact, error) {
	if user == "" {
		return []registrar.Contact{}, nil // the store reads "" as everyone
	}
	rs, err := b.Store.LiveRegistrations(ctx, user, now)
	if err != nil {
		return nil, err
	}
	return fromRegistrations(rs), nil
}

// Update implements registrar.Locations. A user with no account fails with
// registrar.ErrUnknownAccount.
func (b RegistrarStore) Update(ctx context.Context, user string, now time.Time, fn func(live []registrar.Contact) (registrar.Change, error)) ([]registrar.Contact, error) {
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
		return nil, fmt.Errorf("%w: %q", registrar.ErrUnknownAccount, user)
	}
	if err != nil {
		return nil, err
	}
	return fromRegistrations(rs), nil
}

// Purge implements registrar.Locations.
func (b RegistrarStore) Purge(ctx context.Context, now time.Time) (int64, error) {
	return b.Store.PurgeRegistrations(ctx, now)
}

package store

import "database/sql"

// DB returns the underlying database handle, for packages that keep tables
// of their own in the store's database through their own migrations in
// migrations/ (the designer API's users, API keys and sessions). Use the
// store's methods for everything the store owns.
func (s *Store) DB() *sql.DB { return s.db }

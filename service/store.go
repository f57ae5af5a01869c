package service

import (
	"context"
	"fmt"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/store"
)

// OpenStore opens the database storage.driver names. An error names the
// setting at fault and why, never the DSN's password.
func OpenStore(ctx context.Context, c config.Storage) (*store.Store, error) {
	if c.Driver == store.DriverPostgres {
		s, err := store.OpenPostgres(ctx, c.DSN)
		if err != nil {
			return nil, fmt.Errorf("storage.dsn: %w", err)
		}
		return s, nil
	}
	s, err := store.Open(ctx, c.Path)
	if err != nil {
		return nil, fmt.Errorf("storage.path: %w", err)
	}
	return s, nil
}

package auth

import (
	"context"
	"strings"
	"time"
)

// Credential names what a principal authenticated with: one browser
// session or one API token (by the hash the store keeps, never the
// secret). Live streams remember it, so that they end when it does.
type Credential string

const (
	credentialSession = "session:"
	credentialToken   = "token:"
)

// Credential returns what p authenticated with ("" for a principal made
// by hand).
func (p *Principal) Credential() Credential {
	switch {
	case p.tokenHash != "":
		return Credential(credentialToken + p.tokenHash)
	case p.sessionHash != "":
		return Credential(credentialSession + p.sessionHash)
	}
	return ""
}

// Recheck loads a credential again, as a new request would, without
// extending it: its principal (with today's role and scope) and, for a
// browser session, when it expires unless used meanwhile (zero for a
// token). A credential that ended for any reason — logout, password
// change or reset, expiry, revocation, a disabled or deleted user — is
// ErrUnauthenticated.
func (s *Service) Recheck(ctx context.Context, c Credential) (*Principal, time.Time, error) {
	if hash, ok := strings.CutPrefix(string(c), credentialToken); ok {
		p, _, err := s.tokenPrincipal(ctx, hash)
		return p, time.Time{}, err
	}
	if hash, ok := strings.CutPrefix(string(c), credentialSession); ok {
		p, se, err := s.sessionPrincipal(ctx, hash)
		return p, se.ExpiresAt, err
	}
	return nil, time.Time{}, ErrUnauthenticated
}

// Stamp changes whenever any credential may have ended or any user's
// access changed, here or in another process (the CLI): a cheap read to
// poll before rechecking live streams. See store.Store.AuthStamp.
func (s *Service) Stamp(ctx context.Context) (string, error) {
	return s.st.AuthStamp(ctx)
}

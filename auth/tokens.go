package auth

import (
	"context"
	"fmt"

	"github.com/hallwatch/hallwatch/internal/ids"
	"github.com/hallwatch/hallwatch/store"
)

// TokenInfo is an API token with its user's name; never the secret.
type TokenInfo struct {
	store.APIToken
	User string
}

// CreateToken makes an API token for user id and returns its secret, which
// is shown once: only its hash is stored.
func (s *Service) CreateToken(ctx context.Context, by Actor, userID int64, name string) (string, TokenInfo, error) {
	u, err := s.st.UserByID(ctx, userID)
	if err != nil {
		return "", TokenInfo{}, err
	}
	secret := TokenPrefix + ids.Secret()
	t := store.APIToken{TokenHash: hashSecret(secret), UserID: userID, Name: name, CreatedAt: s.opts.Now()}
	if t.ID, err = s.st.CreateToken(ctx, t); err != nil {
		return "", TokenInfo{}, err
	}
	s.audit(ctx, by, "token_create", u.Name, fmt.Sprintf("token %d %q", t.ID, name))
	return secret, TokenInfo{APIToken: t, User: u.Name}, nil
}

// Tokens lists every user's tokens, revoked ones included.
func (s *Service) Tokens(ctx context.Context) ([]TokenInfo, error) {
	users, err := s.st.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	out := []TokenInfo{}
	for _, u := range users {
		ts, err := s.st.ListTokens(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			out = append(out, TokenInfo{APIToken: t, User: u.Name})
		}
	}
	return out, nil
}

// RevokeToken revokes token id at once (the next request with it is
// refused) and returns what it was.
func (s *Service) RevokeToken(ctx context.Context, by Actor, id int64) (TokenInfo, error) {
	ts, err := s.Tokens(ctx)
	if err != nil {
		return TokenInfo{}, err
	}
	for _, t := range ts {
		if t.ID == id {
			if err := s.st.RevokeToken(ctx, id, s.opts.Now()); err != nil {
				return TokenInfo{}, err
			}
			s.audit(ctx, by, "token_revoke", t.User, fmt.Sprintf("token %d %q", t.ID, t.Name))
			return t, nil
		}
	}
	return TokenInfo{}, fmt.Errorf("token %d: %w", id, store.ErrNotFound)
}

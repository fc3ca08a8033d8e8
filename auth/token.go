package auth

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"berth.dev/berth/kvnode"
)

// IssuerConfig configures an Issuer. Its zero value works for one registry.
type IssuerConfig struct {
	// Issuer is the "iss" claim; "" means "berth".
	Issuer string
	// Service is the "aud" claim, the service parameter that clients send and the
	// WWW-Authenticate challenge names; "" means "berth-registry".
	Service string
	// TTL is the lifetime of tokens; zero means 5 minutes. At most MaxTokenTTL.
	TTL time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Validate reports a configuration that cannot work.
func (c IssuerConfig) Validate() error {
	if c.TTL < 0 || c.TTL > MaxTokenTTL {
		return fmt.Errorf("auth: token TTL %v outside (0, %v]", c.TTL, MaxTokenTTL)
	}
	return nil
}

// Issuer issues and verifies Docker registry tokens: JWTs signed with an Ed25519 key
// kept in the metadata store, so a token from any replica verifies on every replica.
type Issuer struct {
	store kvnode.Store
	authz Authorizer
	cfg   IssuerConfig
	log   *slog.Logger

	mu sync.Mutex // guards keys
	// keys caches signing keys by key ID; stored keys never change their key bytes.
	keys map[string]ed25519.PrivateKey
}

// NewIssuer returns an Issuer that grants what authz allows.
func NewIssuer(
	store kvnode.Store,
	authz Authorizer,
	cfg IssuerConfig,
	log *slog.Logger,
) (*Issuer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Issuer == "" {
		cfg.Issuer = "berth"
	}
	if cfg.Service == "" {
		cfg.Service = "berth-registry"
	}
	if cfg.TTL == 0 {
		cfg.TTL = 5 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Issuer{
		store: store, authz: authz, cfg: cfg, log: log,
		keys: make(map[string]ed25519.PrivateKey),
	}, nil
}

// Service returns the audience of the Issuer's tokens, for the WWW-Authenticate
// challenge.
func (i *Issuer) Service() string { return i.cfg.Service }

// Access is one entry of a token's "access" claim.
type Access struct {
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

// Claims are the claims of a Berth token.
type Claims struct {
	jwt.RegisteredClaims
	Access []Access `json:"access"`
}

// Allows reports whether the claims grant action on the resource typ:name.
func (c *Claims) Allows(typ, name, action string) bool {
	for _, a := range c.Access {
		if a.Type == typ && a.Name == name && slices.Contains(a.Actions, action) {
			return true
		}
	}
	return false
}

// Token is an issued token, shaped as the token endpoint's JSON answer.
type Token struct {
	Token Secret `json:"token"`
	// AccessToken repeats Token for OAuth2 clients.
	AccessToken Secret    `json:"access_token"`
	ExpiresIn   int       `json:"expires_in"`
	IssuedAt    time.Time `json:"issued_at"`
	// Access is what was granted, for logs and tests; not part of the JSON answer.
	Access []Access `json:"-"`
}

// LogValue logs what a token grants, never the token.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(slog.Time("issued_at", t.IssuedAt), slog.Any("access", t.Access))
}

// Issue returns a token for p that grants, for each requested scope, the requested
// actions that p is allowed: for "repository" scopes the actions pull, push, delete
// and "*" (all three); for "registry:catalog:*" everything when p is a system admin.
// Anything else is silently not granted, as the token protocol expects.
func (i *Issuer) Issue(ctx context.Context, p Principal, scopes []Scope) (Token, error) {
	access, err := i.grant(ctx, p, scopes)
	if err != nil {
		return Token{}, err
	}
	k, err := i.signingKey(ctx)
	if err != nil {
		return Token{}, err
	}
	now := i.cfg.Now()
	claims := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: i.cfg.Issuer, Subject: p.Name, Audience: jwt.ClaimStrings{i.cfg.Service},
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(i.cfg.TTL)), ID: randomID(),
		},
		Access: access,
	}
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	t.Header["kid"] = k.ID
	raw, err := t.SignedString(k.private())
	if err != nil {
		return Token{}, fmt.Errorf("auth: sign token: %w", err)
	}
	return Token{
		Token: Secret(raw), AccessToken: Secret(raw), ExpiresIn: int(i.cfg.TTL.Seconds()),
		IssuedAt: now.UTC(), Access: access,
	}, nil
}

// signingKey returns the current key. It reads the current key ID on every call, so
// a rotation on any replica takes effect at once everywhere.
func (i *Issuer) signingKey(ctx context.Context) (signKey, error) {
	return currentSignKey(ctx, i.store, i.cfg.Now())
}

// Rotate makes a new signing key current. Tokens signed with the previous key stay
// valid until they expire; keys retired longer than MaxTokenTTL ago are deleted.
// It returns the new key ID.
func (i *Issuer) Rotate(ctx context.Context) (string, error) {
	kid, err := rotateSignKey(ctx, i.store, i.cfg.Now())
	if err == nil {
		i.log.Info("auth: token signing key rotated", "kid", kid)
	}
	return kid, err
}

// Verify checks a token's signature, issuer, audience and lifetime and returns its
// claims. Every refusal wraps ErrInvalidToken, except failures of the store.
func (i *Issuer) Verify(ctx context.Context, raw Secret) (*Claims, error) {
	var storeErr error
	keyFunc := func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		pub, err := i.publicKey(ctx, kid)
		if err != nil && !errors.Is(err, ErrInvalidToken) {
			storeErr = err
		}
		return pub, err
	}
	var c Claims
	_, err := jwt.ParseWithClaims(string(raw), &c, keyFunc,
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithIssuer(i.cfg.Issuer), jwt.WithAudience(i.cfg.Service),
		jwt.WithExpirationRequired(), jwt.WithTimeFunc(i.cfg.Now))
	if storeErr != nil {
		return nil, storeErr
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	return &c, nil
}

// publicKey returns the verification key kid, from the cache or the store.
func (i *Issuer) publicKey(ctx context.Context, kid string) (ed25519.PublicKey, error) {
	i.mu.Lock()
	priv, ok := i.keys[kid]
	i.mu.Unlock()
	if ok {
		return priv.Public().(ed25519.PublicKey), nil
	}
	k, err := loadSignKey(ctx, i.store, kid)
	if err != nil {
		return nil, err
	}
	priv = k.private()
	i.mu.Lock()
	i.keys[kid] = priv
	i.mu.Unlock()
	return priv.Public().(ed25519.PublicKey), nil
}

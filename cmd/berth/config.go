package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"berth.dev/berth/auth"
	"berth.dev/berth/gateway"
	"berth.dev/berth/policies"
)

// Config is the whole configuration of `berth serve`. Every key can be set in the
// YAML file, by an environment variable BERTH_<PATH> (the YAML path upper-cased and
// joined with '_', for example BERTH_UPLOADS_TTL), and the common ones by flags.
// Precedence: flag, environment, file, default. docs/configuration.md lists the keys.
type Config struct {
	// Addr is the listen address of the HTTP API.
	Addr string `yaml:"addr"`
	// DataDir holds all state of a single-process deployment.
	DataDir string `yaml:"data_dir"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level"`
	// LogFormat is text or json.
	LogFormat string `yaml:"log_format"`
	// DebugAddr, when set, serves Go's pprof profiles on this address. Keep it on
	// loopback: profiles reveal internals.
	DebugAddr string `yaml:"debug_addr"`
	// Uploads tunes blob upload sessions.
	Uploads UploadsConfig `yaml:"uploads"`
	// Audit tunes the audit log (the registry's event log).
	Audit AuditConfig `yaml:"audit"`
	// KV selects the metadata store.
	KV KVConfig `yaml:"kv"`
	// Storage selects where blobs live.
	Storage StorageConfig `yaml:"storage"`
	// TrustedProxies lists, comma-separated, the addresses and CIDR prefixes of load
	// balancers whose X-Forwarded-For and X-Forwarded-Proto headers are believed.
	TrustedProxies string `yaml:"trusted_proxies"`
	// Auth configures authentication and the token service.
	Auth AuthConfig `yaml:"auth"`
	// Policies binds built-in policies to admission hooks (file only; none means
	// every push, pull and delete is admitted).
	Policies []policies.BindingSpec `yaml:"policies"`
	// P2P configures the seed that serves blobs to peer agents (docs/p2p.md).
	P2P SeedConfig `yaml:"p2p"`
}

// KVConfig selects the metadata store. With no endpoints, `berth serve` runs an
// embedded single member under <data_dir>/kv.
type KVConfig struct {
	// Endpoints are the comma-separated client URLs of a kvnode or etcd cluster.
	Endpoints string `yaml:"endpoints"`
	// CertFile and KeyFile authenticate Berth to the cluster; CAFile verifies it.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	CAFile   string `yaml:"ca_file"`
	// RequestTimeout bounds one metadata operation; past it the API answers 503.
	RequestTimeout time.Duration `yaml:"request_timeout"`
}

// AuthConfig configures authentication. Authentication is always on; the admin
// password of the first start comes from BERTH_ADMIN_PASSWORD (environment only).
type AuthConfig struct {
	// Realm is the token endpoint URL that 401 challenges name; empty derives it
	// from each request's scheme and Host header (set it behind a TLS-terminating
	// load balancer, e.g. https://registry.example.com/service/token).
	Realm string `yaml:"realm"`
	// Service is the token audience and the challenge's service parameter.
	Service string `yaml:"service"`
	// TokenTTL is the lifetime of issued tokens, at most 1 hour.
	TokenTTL time.Duration `yaml:"token_ttl"`
}

// UploadsConfig tunes blob upload sessions.
type UploadsConfig struct {
	// TTL is how long an idle upload session is kept before cleanup.
	TTL time.Duration `yaml:"ttl"`
}

// AuditConfig tunes the audit log.
type AuditConfig struct {
	// Retention is how long events (pushes, pulls, deletes, admin changes) are kept.
	Retention time.Duration `yaml:"retention"`
}

// DefaultConfig returns the configuration used when nothing is set.
func DefaultConfig() Config {
	return Config{
		Addr:      ":5000",
		DataDir:   "./berth-data",
		LogLevel:  "info",
		LogFormat: "text",
		Uploads:   UploadsConfig{TTL: 24 * time.Hour},
		Audit:     AuditConfig{Retention: 7 * 24 * time.Hour},
		KV:        KVConfig{RequestTimeout: 5 * time.Second},
		P2P:       defaultSeedConfig(),
		Storage: StorageConfig{
			Driver: "filesystem", RedirectTTL: 10 * time.Minute, S3: S3Config{TLS: true},
		},
		Auth: AuthConfig{Service: "berth-registry", TokenTTL: 5 * time.Minute},
	}
}

// Validate reports the first invalid key.
func (c Config) Validate() error {
	if c.Addr == "" {
		return errors.New("addr must not be empty")
	}
	if c.DataDir == "" {
		return errors.New("data_dir must not be empty")
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		return err
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("log_format %q must be text or json", c.LogFormat)
	}
	if c.Uploads.TTL <= 0 {
		return errors.New("uploads.ttl must be positive")
	}
	if c.P2P.Enabled && (c.P2P.PieceSize < 64<<10 || c.P2P.PieceSize > 256<<20) {
		return errors.New("p2p.piece_size must be between 64 KiB and 256 MiB")
	}
	if c.Auth.TokenTTL <= 0 || c.Auth.TokenTTL > auth.MaxTokenTTL {
		return fmt.Errorf("auth.token_ttl must be in (0, %v]", auth.MaxTokenTTL)
	}
	if _, err := gateway.ParseTrustedProxies(splitList(c.TrustedProxies)); err != nil {
		return err
	}
	if c.Audit.Retention <= 0 {
		return errors.New("audit.retention must be positive")
	}
	if c.KV.RequestTimeout <= 0 {
		return errors.New("kv.request_timeout must be positive")
	}
	return c.Storage.validate()
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("log_level %q must be debug, info, warn or error", s)
	}
	return l, nil
}

// loadConfig reads the defaults, then file (when not ""), then the environment.
func loadConfig(file string, environ []string) (Config, error) {
	c := DefaultConfig()
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return c, fmt.Errorf("config: %w", err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil {
			return c, fmt.Errorf("config %s: %w", file, err)
		}
	}
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "BERTH_") {
			env[k] = v
		}
	}
	if err := applyEnv(reflect.ValueOf(&c).Elem(), "BERTH", env); err != nil {
		return c, err
	}
	return c, nil
}

// applyEnv sets every field of v whose variable prefix_<YAML NAME> is in env.
func applyEnv(v reflect.Value, prefix string, env map[string]string) error {
	t := v.Type()
	for i := range t.NumField() {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		name := prefix + "_" + strings.ToUpper(tag)
		f := v.Field(i)
		if f.Kind() == reflect.Slice {
			continue // lists are set in the file only
		}
		if f.Kind() == reflect.Struct {
			if err := applyEnv(f, name, env); err != nil {
				return err
			}
			continue
		}
		s, ok := env[name]
		if !ok {
			continue
		}
		if err := setField(f, s); err != nil {
			return fmt.Errorf("environment %s: %w", name, err)
		}
	}
	return nil
}

func setField(f reflect.Value, s string) error {
	switch {
	case f.Type() == reflect.TypeFor[time.Duration]():
		d, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		f.SetInt(int64(d))
	case f.Kind() == reflect.String:
		f.SetString(s)
	case f.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return err
		}
		f.SetBool(b)
	case f.Kind() == reflect.Int || f.Kind() == reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return err
		}
		f.SetInt(n)
	default:
		return fmt.Errorf("unsupported type %s", f.Type())
	}
	return nil
}

package kvnode

import (
	"context"
	"log/slog"
	"sync/atomic"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// etcdLog carries the embedded etcd's own log (zap) into Berth's slog logger, at
// warn and above, and silences it once the member is closing: shutting down, etcd
// reports every closed listener as an error, which is noise to an operator.
type etcdLog struct {
	log     *slog.Logger
	closing atomic.Bool
}

func (l *etcdLog) zap() *zap.Logger { return zap.New(&etcdCore{l: l}) }

// etcdCore is a zapcore.Core writing to the slog logger.
type etcdCore struct {
	l      *etcdLog
	fields []zapcore.Field
}

func (c *etcdCore) Enabled(lvl zapcore.Level) bool {
	return lvl >= zapcore.WarnLevel && !c.l.closing.Load()
}

func (c *etcdCore) With(fields []zapcore.Field) zapcore.Core {
	return &etcdCore{l: c.l, fields: append(append([]zapcore.Field{}, c.fields...), fields...)}
}

func (c *etcdCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

// quietMessages are etcd warnings that do not apply to Berth's members: Berth
// serves gRPC and HTTP on one client port on purpose and does not use etcd's auth.
var quietMessages = map[string]bool{
	"Running http and grpc server on single port. This is not recommended for production.": true,
	"simple token is not cryptographically signed":                                         true,
}

func (c *etcdCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	if quietMessages[e.Message] {
		return nil
	}
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range append(c.fields, fields...) {
		f.AddTo(enc)
	}
	attrs := make([]any, 0, 2*len(enc.Fields)+2)
	attrs = append(attrs, "component", "etcd")
	for k, v := range enc.Fields {
		attrs = append(attrs, k, v)
	}
	level := slog.LevelWarn
	if e.Level >= zapcore.ErrorLevel {
		level = slog.LevelError
	}
	c.l.log.Log(context.Background(), level, e.Message, attrs...)
	return nil
}

func (c *etcdCore) Sync() error { return nil }

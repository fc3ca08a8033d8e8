package plugins

import (
	"context"
	"encoding/json"
	"fmt"
)

// Call runs hook with req marshalled to JSON and unmarshals the plugin's result
// into resp (skipped when resp is nil). subject, which may be nil, serves the
// documents the binding's capabilities let the plugin read.
//
// The whole call, waiting for an instance included, is bounded by the binding's
// Timeout. A nil error means the plugin answered; a denial is in resp. Otherwise
// the error tells why there is no answer: a *PluginError (ErrPluginFailed) when the
// plugin reported an error itself, and ErrTimeout, ErrMemoryLimit, ErrTrapped,
// ErrOutputTooLarge, ErrCapabilityNotGranted or ErrBadResponse when it failed; the
// instance is then discarded.
func (b *Binding) Call(ctx context.Context, hook string, subject Subject,
	req, resp any) (err error) {
	if !b.mod.Implements(hook) {
		return fmt.Errorf("%w: %s: %q", ErrHookNotImplemented, b.mod.name, hook)
	}
	payload, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("plugins: marshal %s request: %w", hook, err)
	}
	ctx, cancel := context.WithTimeout(ctx, b.limits.Timeout)
	defer cancel()
	st := b.state(hook, subject)
	defer func() { st.flush(ctx, err != nil) }()

	in, err := b.pool.get(ctx, func(ctx context.Context) (*instance, error) {
		return b.spawn(ctx, st)
	})
	if err != nil {
		return err
	}
	in.sink.st = st
	out, err := in.exchange(withState(ctx, st), hookExport(hook), payload,
		b.limits.MaxOutputBytes)
	in.sink.st = nil
	if err != nil {
		err = b.classify(ctx, st, in, err)
		b.pool.put(ctx, in, false)
		return err
	}
	b.pool.put(ctx, in, true)
	return b.decode(hook, out, resp)
}

func (b *Binding) decode(hook string, out []byte, resp any) error {
	result, err := decodeEnvelope(b.mod.name, hook, out)
	if err != nil || resp == nil {
		return err
	}
	if err := json.Unmarshal(result, resp); err != nil {
		return fmt.Errorf("%w: %s: %s: %v", ErrBadResponse, b.mod.name, hook, err)
	}
	return nil
}

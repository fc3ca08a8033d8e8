package sdk

import (
	"encoding/json"
	"fmt"
)

// This file turns ABI messages into handler calls; exports_wasip1.go wires it to
// the module's exports. It is plain Go so that it is tested on any platform.

// describeMessage is the response of berth_describe.
func describeMessage() []byte {
	if registered == nil {
		return describe("", "", nil, nil)
	}
	return registered.description
}

// initMessage handles berth_init: {"abi", "config", "capabilities"}.
// A panic in the plugin's Validate becomes an error, as in a hook.
func initMessage(msg []byte) (out []byte) {
	defer func() {
		if v := recover(); v != nil {
			out = failure(fmt.Errorf("panic: %v", v))
		}
	}()
	var req struct {
		Config       json.RawMessage `json:"config"`
		Capabilities []string        `json:"capabilities"`
	}
	if registered == nil {
		return failure(errNotRegistered)
	}
	if err := json.Unmarshal(msg, &req); err != nil {
		return failure(fmt.Errorf("sdk: decode init: %w", err))
	}
	clear(granted)
	for _, c := range req.Capabilities {
		granted[c] = true
	}
	if err := registered.configure(req.Config); err != nil {
		return failure(err)
	}
	return success(struct{}{})
}

// hookMessage handles berth_hook_<hook>; a panic in the handler becomes an error.
func hookMessage(hook string, msg []byte) (out []byte) {
	defer func() {
		if v := recover(); v != nil {
			out = failure(fmt.Errorf("panic: %v", v))
		}
	}()
	if registered == nil {
		return failure(errNotRegistered)
	}
	h := registered.hooks[hook]
	if h == nil {
		return failure(fmt.Errorf("sdk: hook %q not implemented", hook))
	}
	res, err := h(msg)
	if err != nil {
		return failure(err)
	}
	return success(res)
}

func success(v any) []byte {
	if d, ok := v.(Decision); ok {
		return appendDecision(nil, d)
	}
	b, err := json.Marshal(struct {
		Result any `json:"result"`
	}{v})
	if err != nil {
		return failure(fmt.Errorf("sdk: encode result: %w", err))
	}
	return b
}

func failure(err error) []byte {
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{err.Error()})
	return b
}

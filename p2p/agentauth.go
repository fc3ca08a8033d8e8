package p2p

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Headers with which an agent proves membership of the private network to the
// gateway's preheat endpoints (docs/p2p.md, "Preheat through the admin API"). The
// agent's peer id travels in HeaderPeerID.
const (
	// HeaderPeerTime is the unix time, in seconds, at which the agent signed.
	HeaderPeerTime = "Berth-Peer-Time"
	// HeaderPeerAuth is the hex HMAC-SHA256, keyed by the network key, of the peer
	// id and the time.
	HeaderPeerAuth = "Berth-Peer-Auth"
)

// AgentAuthSkew is how far an agent's signing time may be from the gateway's clock.
const AgentAuthSkew = 60 * time.Second

// agentMAC returns the HMAC of id and the unix time ts keyed by the network key.
func agentMAC(key []byte, id string, ts int64) []byte {
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "berth-agent-v1\n%s\n%d", id, ts)
	return m.Sum(nil)
}

// SignAgent sets the headers that prove that the agent id knows the network key.
func SignAgent(h http.Header, key []byte, id string, now time.Time) {
	ts := now.Unix()
	h.Set(HeaderPeerID, id)
	h.Set(HeaderPeerTime, strconv.FormatInt(ts, 10))
	h.Set(HeaderPeerAuth, hex.EncodeToString(agentMAC(key, id, ts)))
}

// VerifyAgent checks the proof of SignAgent: a peer id, a time within
// AgentAuthSkew of now and the HMAC of both under key. It returns the peer id, or
// an error wrapping ErrAgentAuth that never holds the HMAC.
func VerifyAgent(key []byte, id, ts, mac string, now time.Time) (string, error) {
	if len(key) == 0 {
		return "", fmt.Errorf("%w: the gateway has no network key", ErrAgentAuth)
	}
	if id == "" || ts == "" || mac == "" {
		return "", fmt.Errorf("%w: send %s, %s and %s", ErrAgentAuth, HeaderPeerID,
			HeaderPeerTime, HeaderPeerAuth)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return "", fmt.Errorf("%w: %s is not a unix time", ErrAgentAuth, HeaderPeerTime)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > AgentAuthSkew || d < -AgentAuthSkew {
		return "", fmt.Errorf("%w: signed %v away from the gateway's clock (at most %v): "+
			"synchronize the agent's clock", ErrAgentAuth, d.Round(time.Second), AgentAuthSkew)
	}
	got, err := hex.DecodeString(mac)
	if err != nil || !hmac.Equal(got, agentMAC(key, id, sec)) {
		return "", fmt.Errorf("%w: the HMAC does not match: the agent's --network-key-file "+
			"must hold the gateway's network key", ErrAgentAuth)
	}
	return id, nil
}

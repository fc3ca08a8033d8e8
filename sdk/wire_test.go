package sdk

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// samplePush is a push request with every field set, strings that need escapes
// included.
func samplePush() PushRequest {
	arm := Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}
	return PushRequest{
		Repository: "team/app", Tag: "v1\t\"quoted\" \\ <&> \u2028 é 😀", Digest: "sha256:d",
		MediaType: "application/vnd.oci.image.index.v1+json", Actor: "robot$ci",
		Manifest: ManifestSummary{
			ArtifactType: "application/x",
			Config:       &Descriptor{MediaType: "c", Digest: "sha256:c", Size: 100},
			Layers:       []Descriptor{{MediaType: "l", Digest: "sha256:l", Size: 1 << 40}},
			Manifests:    []Descriptor{{Digest: "sha256:m", Size: -1, Platform: &arm}},
			TotalSize:    -9223372036854775808,
			Annotations:  map[string]string{"k": "v", "": "\x00\x1f", "é": ""},
			Subject:      "sha256:s",
			Platforms:    []Platform{arm, {}},
		},
		TagState: &TagState{Exists: true, Digest: "sha256:old"},
	}
}

// TestWireMatchesEncodingJSON checks that the lean decoders read what
// encoding/json writes exactly as encoding/json reads it.
func TestWireMatchesEncodingJSON(t *testing.T) {
	for i, want := range []PushRequest{{}, samplePush()} {
		msg, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		checkSame(t, msg, decodePush)
		var got PushRequest
		if err := decodePush(msg, &got); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("push %d: got %+v, %v; want %+v", i, got, err, want)
		}
	}
	pull, _ := json.Marshal(PullRequest{Repository: "r", Reference: "latest", Digest: "d",
		MediaType: "m", Actor: "a"})
	checkSame(t, pull, decodePull)
	del, _ := json.Marshal(DeleteRequest{Repository: "r", Tag: "t", Digest: "d", Actor: "a"})
	checkSame(t, del, decodeDelete)
}

// checkSame decodes msg with decode and with encoding/json and fails the test
// unless both succeed alike.
func checkSame[R any](t *testing.T, msg []byte, decode func([]byte, *R) error) {
	t.Helper()
	var got, want R
	errGot, errWant := decode(msg, &got), json.Unmarshal(msg, &want)
	if (errGot == nil) != (errWant == nil) || !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\nlean:          %+v, %v\nencoding/json: %+v, %v", msg, got, errGot,
			want, errWant)
	}
}

// TestWireHandWritten covers what encoding/json never writes but a message may
// hold: white space, escapes, nulls, unknown keys of every kind, and errors.
func TestWireHandWritten(t *testing.T) {
	same := []string{
		` { "repository" : "a\/b\u00e9\ud83d\ude00\ud800x" , "tag":null ,` +
			`"unknown":{"a":[1,-2.5e+3,true,false,null,{"b":[]}],"c":"\""},` +
			`"manifest":{"config":null,"layers":null,"annotations":{"k":"1","k":"2"},` +
			`"total_size":-0,"platforms":[{"os":"linux","extra":0}],` +
			`"manifests":[{"size":0,"platform":null}]},"tag_state":null} `,
		`{"manifest":{"config":{"size":1},"config":{"digest":"d"}},"tag_state":{"exists":false}}`,
		"{\"Repository\":\"bad utf-8 \xff\xfe end\"}",
		`{"manifest":{"layers":[],"manifests":[ ],"platforms":[],"annotations":{}}}`,
		`null`,
		`{}`,
	}
	for _, msg := range same {
		if strings.Contains(msg, `"config":{"size":1},"config"`) {
			// encoding/json merges a repeated object into the same pointer; the host
			// never repeats a key, so the lean decoder only has to accept it.
			var got PushRequest
			if err := decodePush([]byte(msg), &got); err != nil {
				t.Errorf("%s: %v", msg, err)
			}
			continue
		}
		checkSame(t, []byte(msg), decodePush)
	}
	deep := `{"x":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + "}"
	bad := []string{
		``, `[]`, `{"tag":1}`, `{"manifest":{"total_size":1.5}}`, `{"manifest":{"total_size":1e3}}`,
		`{"manifest":{"total_size":99999999999999999999}}`, `{"repository":"a"`,
		`{"repository":"a"} x`, `{null:1}`, `{"x":01}`, `{"x":1.}`, `{"x":-}`, `{"x":.5}`,
		`{"x":+1}`, `{"x":"\q"}`, `{"x":tru}`, `{"x":"\u12"}`, "{\"x\":\"a\nb\"}", `{"x" 1}`,
		`{"x":1,}`, `{"a":[1,]}`, deep, `{"tag_state":{"exists":"yes"}}`, `{"manifest":[]}`,
		`{"manifest":{"layers":{}}}`, `{"x":1e}`, `{"x":--1}`, `{"x":NaN}`,
	}
	for _, msg := range bad {
		var got PushRequest
		err := decodePush([]byte(msg), &got)
		if err == nil {
			t.Errorf("%q: accepted", msg)
		}
		if json.Unmarshal([]byte(msg), new(PushRequest)) == nil {
			t.Errorf("%q: encoding/json accepts it, the test is wrong", msg)
		}
	}
}

// FuzzWire feeds arbitrary bytes to the push decoder: it must not panic, and it
// may accept only what encoding/json accepts.
func FuzzWire(f *testing.F) {
	sample, _ := json.Marshal(samplePush())
	for _, s := range []string{string(sample), `{"manifest":{"layers":[{"size":1}]}}`,
		`{"x":[{"y":"\u0041"}]}`, `null`, `{"tag":"\ud800\udc00"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		if bytes.ContainsRune(msg, '\u212a') || bytes.ContainsRune(msg, '\u017f') {
			return // encoding/json folds the Kelvin sign to k and the long s to s in keys
		}
		var got, want PushRequest
		if decodePush(msg, &got) != nil {
			return
		}
		if err := json.Unmarshal(msg, &want); err != nil {
			t.Fatalf("%q: the lean decoder accepts what encoding/json refuses: %v", msg, err)
		}
	})
}

// TestAppendDecision checks the success envelope against encoding/json.
func TestAppendDecision(t *testing.T) {
	for _, d := range []Decision{Allow(), Deny("no"), Deny(samplePush().Tag),
		Deny("bad \xff utf-8 \x01 \u2029 </script>"), {Allow: true, Reason: "why"}} {
		got := appendDecision(nil, d)
		want, _ := json.Marshal(struct {
			Result Decision `json:"result"`
		}{d})
		if string(got) != string(want) {
			t.Errorf("appendDecision(%+v) = %s, want %s", d, got, want)
		}
	}
}

func BenchmarkDecodePush(b *testing.B) {
	msg, _ := json.Marshal(samplePush())
	b.Run("lean", func(b *testing.B) {
		for b.Loop() {
			var r PushRequest
			if err := decodePush(msg, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			var r PushRequest
			if err := json.Unmarshal(msg, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

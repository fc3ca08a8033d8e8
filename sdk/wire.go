package sdk

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// A lean JSON codec for the messages of the admission hooks. Inside a guest,
// encoding/json's reflection is most of a call's cost: decoding a push request
// took about 120 us of a 190 us call under the host's deadline instrumentation
// (docs/benchmarks.md, "Plugins"). This reader walks the bytes once and fills the
// request types directly. It accepts only what encoding/json accepts for these
// types, with the same result when keys are spelled as the host spells them; it
// skips unknown keys and leaves a field at its zero value on null. Other messages
// (configuration, after-push events) still go through encoding/json.

// errSyntax reports input that is not the JSON a hook request must be.
var errSyntax = errors.New("invalid JSON")

// wireReader reads one JSON value from b. The first error sticks: later reads
// return zero values and the caller checks err once at the end.
type wireReader struct {
	b     []byte
	i     int
	err   error
	depth int // of the unknown values being skipped
}

// maxSkipDepth bounds the nesting of a skipped value, as encoding/json bounds it.
const maxSkipDepth = 10000

func (r *wireReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w at offset %d: %s", errSyntax, r.i, fmt.Sprintf(format, args...))
	}
}

// peek skips white space and returns the next byte, or 0 at the end or after an error.
func (r *wireReader) peek() byte {
	for r.err == nil && r.i < len(r.b) {
		switch c := r.b[r.i]; c {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return c
		}
	}
	return 0
}

// expect consumes the byte c after white space.
func (r *wireReader) expect(c byte) {
	if r.peek() != c {
		r.fail("want %q", c)
		return
	}
	r.i++
}

// literal consumes word (true, false or null).
func (r *wireReader) literal(word string) {
	if len(r.b)-r.i < len(word) || string(r.b[r.i:r.i+len(word)]) != word {
		r.fail("want %s", word)
		return
	}
	r.i += len(word)
}

// null consumes a null and reports whether there was one.
func (r *wireReader) null() bool {
	if r.peek() != 'n' {
		return false
	}
	r.literal("null")
	return r.err == nil
}

// open consumes the opening c ('{' or '[') of an object or array, or a null,
// and reports whether a member follows: false for null, an empty one, or an error.
func (r *wireReader) open(c byte) bool {
	if r.null() {
		return false
	}
	r.expect(c)
	if r.err == nil && r.peek() == c+2 { // '}' and ']' are '{' and '[' plus 2
		r.i++
		return false
	}
	return r.err == nil
}

// more consumes the separator after a member and reports whether another follows,
// or the closing c and reports false.
func (r *wireReader) more(c byte) bool {
	switch r.peek() {
	case ',':
		r.i++
		return r.err == nil
	case c:
		r.i++
	default:
		r.fail("want , or %c", c)
	}
	return false
}

// field reads an object's key and the colon after it. The bytes may point into
// the message: switch on string(key) does not copy them. Like encoding/json, it
// matches keys without regard to ASCII case (the request types' keys are lower
// case); unlike it, not by Unicode folding (the Kelvin sign is not a k).
func (r *wireReader) field() []byte {
	k := r.keyBytes()
	r.expect(':')
	for i, c := range k {
		if 'A' <= c && c <= 'Z' {
			lower := append([]byte(nil), k...) // k may point into the message
			for j := i; j < len(lower); j++ {
				if c := lower[j]; 'A' <= c && c <= 'Z' {
					lower[j] = c + 'a' - 'A'
				}
			}
			return lower
		}
	}
	return k
}

// str reads a string; a null reads as "".
func (r *wireReader) str() string {
	if r.null() {
		return ""
	}
	return string(r.keyBytes())
}

// keyBytes reads a string, null refused; the bytes may point into the message.
func (r *wireReader) keyBytes() []byte {
	r.expect('"')
	start := r.i
	for r.err == nil && r.i < len(r.b) {
		c := r.b[r.i]
		switch {
		case c == '"':
			s := r.b[start:r.i]
			r.i++
			if !utf8.Valid(s) {
				return []byte(string([]rune(string(s)))) // invalid bytes become U+FFFD
			}
			return s
		case c == '\\':
			return r.escaped(start)
		case c < 0x20:
			r.fail("control character in string")
		default:
			r.i++
		}
	}
	r.fail("unterminated string")
	return nil
}

// escaped reads the rest of a string that has an escape at r.i.
func (r *wireReader) escaped(start int) []byte {
	out := append([]byte(nil), r.b[start:r.i]...)
	for r.err == nil && r.i < len(r.b) {
		c := r.b[r.i]
		switch {
		case c == '"':
			r.i++
			if !utf8.Valid(out) {
				return []byte(string([]rune(string(out))))
			}
			return out
		case c < 0x20:
			r.fail("control character in string")
		case c != '\\':
			out = append(out, c)
			r.i++
		case r.i+1 >= len(r.b):
			r.fail("unterminated escape")
		default:
			r.i += 2
			switch e := r.b[r.i-1]; e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				out = utf8.AppendRune(out, r.unicodeEscape())
			default:
				r.fail("bad escape \\%c", e)
			}
		}
	}
	r.fail("unterminated string")
	return nil
}

// unicodeEscape reads the hex digits of \uXXXX (r.i is past the u), joining a
// surrogate pair; an unpaired surrogate is U+FFFD, as encoding/json has it.
func (r *wireReader) unicodeEscape() rune {
	c := r.hex4()
	if !utf16.IsSurrogate(c) {
		return c
	}
	if len(r.b)-r.i >= 6 && r.b[r.i] == '\\' && r.b[r.i+1] == 'u' {
		save := r.i
		r.i += 2
		if d := utf16.DecodeRune(c, r.hex4()); d != utf8.RuneError {
			return d
		}
		r.i = save
	}
	return utf8.RuneError
}

func (r *wireReader) hex4() rune {
	if len(r.b)-r.i < 4 {
		r.fail("short \\u escape")
		return 0
	}
	n, err := strconv.ParseUint(string(r.b[r.i:r.i+4]), 16, 16)
	if err != nil {
		r.fail("bad \\u escape")
		return 0
	}
	r.i += 4
	return rune(n)
}

// int reads an integer; a null reads as 0. Fractions and exponents are refused,
// as encoding/json refuses them for integer fields.
func (r *wireReader) int() int64 {
	if r.null() {
		return 0
	}
	start := r.i
	if r.i < len(r.b) && r.b[r.i] == '-' {
		r.i++
	}
	digits := r.i
	for r.i < len(r.b) && r.b[r.i] >= '0' && r.b[r.i] <= '9' {
		r.i++
	}
	switch {
	case r.i == digits:
		r.fail("want a number")
	case r.b[digits] == '0' && r.i-digits > 1:
		r.fail("leading zero")
	case r.i < len(r.b) && (r.b[r.i] == '.' || r.b[r.i] == 'e' || r.b[r.i] == 'E'):
		r.fail("want an integer")
	}
	if r.err != nil {
		return 0
	}
	n, err := strconv.ParseInt(string(r.b[start:r.i]), 10, 64)
	if err != nil {
		r.fail("integer out of range")
	}
	return n
}

// bool reads true or false; a null reads as false.
func (r *wireReader) bool() bool {
	switch r.peek() {
	case 't':
		r.literal("true")
		return true
	case 'f':
		r.literal("false")
	case 'n':
		r.literal("null")
	default:
		r.fail("want a boolean")
	}
	return false
}

// skip consumes any value.
func (r *wireReader) skip() {
	if r.depth++; r.depth > maxSkipDepth {
		r.fail("nested too deep")
		return
	}
	defer func() { r.depth-- }()
	switch c := r.peek(); {
	case c == '{':
		for ok := r.open('{'); ok; ok = r.more('}') {
			r.field()
			r.skip()
		}
	case c == '[':
		for ok := r.open('['); ok; ok = r.more(']') {
			r.skip()
		}
	case c == '"':
		r.keyBytes()
	case c == 't':
		r.literal("true")
	case c == 'f':
		r.literal("false")
	case c == 'n':
		r.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		r.number()
	default:
		r.fail("want a value")
	}
}

// number consumes a number in JSON's grammar:
// -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
func (r *wireReader) number() {
	digits := func() int {
		start := r.i
		for r.i < len(r.b) && r.b[r.i] >= '0' && r.b[r.i] <= '9' {
			r.i++
		}
		return r.i - start
	}
	at := func(set string) bool {
		if r.i < len(r.b) && strings.IndexByte(set, r.b[r.i]) >= 0 {
			r.i++
			return true
		}
		return false
	}
	at("-")
	lead := r.i
	n := digits()
	ok := n == 1 || n > 1 && r.b[lead] != '0'
	if at(".") {
		ok = ok && digits() > 0
	}
	if at("eE") {
		at("+-")
		ok = ok && digits() > 0
	}
	if !ok {
		r.fail("bad number")
	}
}

// end checks that only white space follows the value and returns the first error.
func (r *wireReader) end() error {
	if r.peek(); r.err == nil && r.i < len(r.b) {
		r.fail("data after the value")
	}
	return r.err
}

func decodePush(b []byte, req *PushRequest) error {
	r := &wireReader{b: b}
	for ok := r.open('{'); ok; ok = r.more('}') {
		switch string(r.field()) {
		case "repository":
			req.Repository = r.str()
		case "tag":
			req.Tag = r.str()
		case "digest":
			req.Digest = r.str()
		case "media_type":
			req.MediaType = r.str()
		case "actor":
			req.Actor = r.str()
		case "manifest":
			r.summary(&req.Manifest)
		case "tag_state":
			req.TagState = nil
			if r.null() {
				continue
			}
			req.TagState = new(TagState)
			for ok := r.open('{'); ok; ok = r.more('}') {
				switch string(r.field()) {
				case "exists":
					req.TagState.Exists = r.bool()
				case "digest":
					req.TagState.Digest = r.str()
				default:
					r.skip()
				}
			}
		default:
			r.skip()
		}
	}
	return r.end()
}

func (r *wireReader) summary(m *ManifestSummary) {
	for ok := r.open('{'); ok; ok = r.more('}') {
		switch string(r.field()) {
		case "artifact_type":
			m.ArtifactType = r.str()
		case "config":
			m.Config = r.descriptorPtr()
		case "layers":
			m.Layers = r.descriptors()
		case "manifests":
			m.Manifests = r.descriptors()
		case "total_size":
			m.TotalSize = r.int()
		case "annotations":
			r.annotations(m)
		case "subject":
			m.Subject = r.str()
		case "platforms":
			m.Platforms = r.platforms()
		default:
			r.skip()
		}
	}
}

func (r *wireReader) annotations(m *ManifestSummary) {
	if r.null() {
		m.Annotations = nil
		return
	}
	if m.Annotations == nil {
		m.Annotations = map[string]string{}
	}
	for ok := r.open('{'); ok; ok = r.more('}') {
		k := string(r.field())
		m.Annotations[k] = r.str()
	}
}

func (r *wireReader) platforms() []Platform {
	if r.null() {
		return nil
	}
	ps := []Platform{}
	for ok := r.open('['); ok; ok = r.more(']') {
		var p Platform
		r.platform(&p)
		ps = append(ps, p)
	}
	return ps
}

func (r *wireReader) descriptors() []Descriptor {
	if r.null() {
		return nil
	}
	ds := []Descriptor{}
	for ok := r.open('['); ok; ok = r.more(']') {
		var d Descriptor
		r.descriptor(&d)
		ds = append(ds, d)
	}
	return ds
}

func (r *wireReader) descriptorPtr() *Descriptor {
	if r.null() {
		return nil
	}
	d := new(Descriptor)
	r.descriptor(d)
	return d
}

func (r *wireReader) descriptor(d *Descriptor) {
	for ok := r.open('{'); ok; ok = r.more('}') {
		switch string(r.field()) {
		case "media_type":
			d.MediaType = r.str()
		case "digest":
			d.Digest = r.str()
		case "size":
			d.Size = r.int()
		case "platform":
			d.Platform = nil
			if !r.null() {
				d.Platform = new(Platform)
				r.platform(d.Platform)
			}
		default:
			r.skip()
		}
	}
}

func (r *wireReader) platform(p *Platform) {
	for ok := r.open('{'); ok; ok = r.more('}') {
		switch string(r.field()) {
		case "os":
			p.OS = r.str()
		case "architecture":
			p.Architecture = r.str()
		case "variant":
			p.Variant = r.str()
		default:
			r.skip()
		}
	}
}

func decodePull(b []byte, req *PullRequest) error {
	return decodeStrings(b, []stringField{{"repository", &req.Repository},
		{"reference", &req.Reference}, {"digest", &req.Digest},
		{"media_type", &req.MediaType}, {"actor", &req.Actor}})
}

func decodeDelete(b []byte, req *DeleteRequest) error {
	return decodeStrings(b, []stringField{{"repository", &req.Repository},
		{"tag", &req.Tag}, {"digest", &req.Digest}, {"actor", &req.Actor}})
}

// stringField is a key of an object whose values are all strings, and where its
// value goes.
type stringField struct {
	key string
	to  *string
}

// decodeStrings reads an object whose known keys all hold strings.
func decodeStrings(b []byte, fields []stringField) error {
	r := &wireReader{b: b}
	for ok := r.open('{'); ok; ok = r.more('}') {
		key := r.field()
		i := slices.IndexFunc(fields, func(f stringField) bool { return f.key == string(key) })
		if i < 0 {
			r.skip()
			continue
		}
		*fields[i].to = r.str()
	}
	return r.end()
}

// appendDecision appends the success envelope of d, as encoding/json writes it.
func appendDecision(b []byte, d Decision) []byte {
	b = append(b, `{"result":{"allow":`...)
	b = strconv.AppendBool(b, d.Allow)
	if d.Reason != "" {
		b = append(b, `,"reason":`...)
		b = appendString(b, d.Reason)
	}
	return append(b, "}}"...)
}

// appendString appends s as a JSON string, escaped as encoding/json escapes it
// (HTML characters and U+2028/U+2029 included; invalid UTF-8 becomes U+FFFD).
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		rn, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case rn == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case rn == '\u2028' || rn == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hex[rn&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

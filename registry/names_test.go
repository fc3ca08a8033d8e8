package registry

import (
	"errors"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

func TestValidateName(t *testing.T) {
	long := strings.Repeat("a", MaxNameLength)
	longPath := strings.Repeat("ab/", MaxNameLength/3-1) + "abc" // 255 bytes
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"one char", "a", true},
		{"digits", "0", true},
		{"two components", "library/ubuntu", true},
		{"many components", "a/b/c/d/e", true},
		{"period", "a.b", true},
		{"underscore", "a_b", true},
		{"double underscore", "a__b", true},
		{"dashes", "a---b", true},
		{"mixed separators", "my-org/my_app.v2", true},
		{"255 chars", long, true},
		{"255 chars with slashes", longPath, true},
		{"256 chars", long + "a", false},
		{"256 chars with slashes", longPath + "a", false},
		{"empty", "", false},
		{"uppercase", "Library/ubuntu", false},
		{"uppercase later", "library/Ubuntu", false},
		{"double period", "a..b", false},
		{"dot-dot component", "a/../b", false},
		{"dot-dot alone", "..", false},
		{"dot component", "a/./b", false},
		{"triple underscore", "a___b", false},
		{"period then dash", "a.-b", false},
		{"leading slash", "/a", false},
		{"trailing slash", "a/", false},
		{"double slash", "a//b", false},
		{"leading period", ".a", false},
		{"leading dash", "-a", false},
		{"leading underscore", "_a", false},
		{"trailing dash", "a-", false},
		{"trailing period", "a.", false},
		{"component with leading dash", "a/-b", false},
		{"colon", "a:b", false},
		{"at", "a@b", false},
		{"space", "a b", false},
		{"bang (key separator)", "a!b", false},
		{"trailing newline", "a\n", false},
		{"non-ascii", "ünicode", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateName(tt.in)
			if (err == nil) != tt.want {
				t.Fatalf("ValidateName(%q) = %v, want ok %v", tt.in, err, tt.want)
			}
			if err != nil && !errors.Is(err, ErrNameInvalid) {
				t.Fatalf("ValidateName(%q) error %v is not ErrNameInvalid", tt.in, err)
			}
		})
	}
}

func TestValidateTag(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"word", "latest", true},
		{"semver", "v1.2.3-rc.1", true},
		{"uppercase", "Latest", true},
		{"leading underscore", "_x", true},
		{"leading digit", "1", true},
		{"128 chars", strings.Repeat("t", 128), true},
		{"129 chars", strings.Repeat("t", 129), false},
		{"empty", "", false},
		{"leading period", ".x", false},
		{"leading dash", "-x", false},
		{"slash", "a/b", false},
		{"colon", "a:b", false},
		{"plus", "1.0+build", false},
		{"space", "a b", false},
		{"trailing newline", "a\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateTag(tt.in)
			if (err == nil) != tt.want {
				t.Fatalf("ValidateTag(%q) = %v, want ok %v", tt.in, err, tt.want)
			}
			if err != nil && !errors.Is(err, ErrTagInvalid) {
				t.Fatalf("ValidateTag(%q) error %v is not ErrTagInvalid", tt.in, err)
			}
		})
	}
}

var (
	sha256Hex = digest.FromString("x").Encoded()
	sha512Hex = digest.SHA512.FromString("x").Encoded()
	sha384Hex = digest.SHA384.FromString("x").Encoded()
)

func TestParseDigest(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"sha256", "sha256:" + sha256Hex, true},
		{"sha512", "sha512:" + sha512Hex, true},
		{"sha384", "sha384:" + sha384Hex, true},
		{"empty", "", false},
		{"algorithm only", "sha256", false},
		{"no hex", "sha256:", false},
		{"no algorithm", ":" + sha256Hex, false},
		{"short", "sha256:" + sha256Hex[:63], false},
		{"long", "sha256:" + sha256Hex + "0", false},
		{"uppercase hex", "sha256:" + strings.ToUpper(sha256Hex), false},
		{"uppercase algorithm", "SHA256:" + sha256Hex, false},
		{"sha256 length under sha512", "sha512:" + sha256Hex, false},
		{"unknown algorithm", "md5:d41d8cd98f00b204e9800998ecf8427e", false},
		{"not hex", "sha256:" + strings.Repeat("g", 64), false},
		{"path", "sha256:../../" + sha256Hex[6:], false},
		{"trailing newline", "sha256:" + sha256Hex + "\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := ParseDigest(tt.in)
			if (err == nil) != tt.want {
				t.Fatalf("ParseDigest(%q) = %q, %v; want ok %v", tt.in, d, err, tt.want)
			}
			if err != nil && !errors.Is(err, ErrDigestInvalid) {
				t.Fatalf("ParseDigest(%q) error %v is not ErrDigestInvalid", tt.in, err)
			}
			if err == nil && d.String() != tt.in {
				t.Fatalf("ParseDigest(%q) = %q", tt.in, d)
			}
		})
	}
}

func TestParseReference(t *testing.T) {
	dg := "sha256:" + sha256Hex
	dg512 := "sha512:" + sha512Hex
	tests := []struct {
		name    string
		in      string
		want    Reference
		wantErr bool
	}{
		{"tag", "latest", Reference{Tag: "latest"}, false},
		{"tag like hex", sha256Hex, Reference{Tag: sha256Hex}, false},
		{"digest", dg, Reference{Digest: digest.Digest(dg)}, false},
		{"sha512 digest", dg512, Reference{Digest: digest.Digest(dg512)}, false},
		{"empty", "", Reference{}, true},
		{"bad digest", "sha256:abc", Reference{}, true},
		{"129-char tag", strings.Repeat("t", 129), Reference{}, true},
		{"leading period", ".x", Reference{}, true},
		{"slash", "a/b", Reference{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseReference(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("ParseReference(%q) = %+v, %v; want %+v, err %v",
					tt.in, got, err, tt.want, tt.wantErr)
			}
			if err != nil {
				if !errors.Is(err, ErrManifestInvalid) {
					t.Fatalf("error %v is not ErrManifestInvalid", err)
				}
				return
			}
			if got.String() != tt.in {
				t.Fatalf("Reference.String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

func TestClipBoundsErrors(t *testing.T) {
	err := ValidateName(strings.Repeat("A", 10_000))
	if len(err.Error()) > 200 {
		t.Fatalf("error message is %d bytes long", len(err.Error()))
	}
}

// nameByHand implements the distribution spec's repository name grammar without a
// regular expression:
//
//	component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
//	name      := component ( "/" component )*
func nameByHand(s string) bool {
	if len(s) == 0 || len(s) > MaxNameLength {
		return false
	}
	for _, c := range strings.Split(s, "/") {
		if !componentByHand(c) {
			return false
		}
	}
	return true
}

func componentByHand(c string) bool {
	alnum := func(b byte) bool { return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' }
	i := 0
	for {
		j := i
		for j < len(c) && alnum(c[j]) {
			j++
		}
		if j == i {
			return false
		}
		if j == len(c) {
			return true
		}
		switch c[j] {
		case '.':
			j++
		case '_':
			j++
			if j < len(c) && c[j] == '_' {
				j++
			}
		case '-':
			for j < len(c) && c[j] == '-' {
				j++
			}
		default:
			return false
		}
		i = j
	}
}

func FuzzValidateName(f *testing.F) {
	for _, s := range []string{
		"a", "library/ubuntu", "a__b", "a---b/c.d", "a..b", "a//b", "/a", "a/", "A",
		"a___b", strings.Repeat("ab/", 85), strings.Repeat("a", 256), "a!b", "a\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateName(s)
		if want := nameByHand(s); (err == nil) != want {
			t.Fatalf("ValidateName(%q) = %v, grammar says ok %v", s, err, want)
		}
		if err != nil {
			if !errors.Is(err, ErrNameInvalid) {
				t.Fatalf("ValidateName(%q) error %v is not ErrNameInvalid", s, err)
			}
			return
		}
		if len(s) > MaxNameLength {
			t.Fatalf("accepted %d bytes", len(s))
		}
		if strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789._/-") != "" {
			t.Fatalf("accepted %q with a character outside [a-z0-9._/-]", s)
		}
		for _, bad := range []string{"//", "..", "___", "/.", "./", "/_", "_/", "/-", "-/"} {
			if strings.Contains(s, bad) {
				t.Fatalf("accepted %q containing %q", s, bad)
			}
		}
		if strings.IndexAny(s[:1]+s[len(s)-1:], "._/-") >= 0 {
			t.Fatalf("accepted %q with a leading or trailing separator", s)
		}
	})
}

func FuzzParseDigest(f *testing.F) {
	for _, s := range []string{
		"sha256:" + sha256Hex, "sha512:" + sha512Hex, "sha384:" + sha384Hex, "sha256:",
		"sha256:" + strings.ToUpper(sha256Hex), "md5:00", "", ":", "sha256:" + sha256Hex + "\n",
		"a+b.c_d-e:" + sha256Hex,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDigest(s)
		if err != nil {
			if !errors.Is(err, ErrDigestInvalid) {
				t.Fatalf("ParseDigest(%q) error %v is not ErrDigestInvalid", s, err)
			}
			return
		}
		if d.String() != s {
			t.Fatalf("ParseDigest(%q).String() = %q", s, d)
		}
		if err := d.Validate(); err != nil {
			t.Fatalf("ParseDigest(%q) accepted, Validate: %v", s, err)
		}
		again, err := ParseDigest(d.String())
		if err != nil || again != d {
			t.Fatalf("round trip of %q = %q, %v", d, again, err)
		}
		alg := d.Algorithm()
		if !alg.Available() || len(d.Encoded()) != 2*alg.Size() {
			t.Fatalf("accepted %q: algorithm %q, %d hex digits", s, alg, len(d.Encoded()))
		}
		if strings.Trim(d.Encoded(), "0123456789abcdef") != "" {
			t.Fatalf("accepted %q with non-hex digits", s)
		}
		if _, err := ParseReference(s); err != nil {
			t.Fatalf("ParseDigest accepts %q, ParseReference refuses it: %v", s, err)
		}
	})
}

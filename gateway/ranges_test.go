package gateway

import (
	"errors"
	"testing"
)

func TestParseRange(t *testing.T) {
	const size = 1000
	tests := []struct {
		name    string
		header  string
		want    byteRange
		wantOK  bool
		wantErr bool
	}{
		{"closed", "bytes=0-9", byteRange{0, 9}, true, false},
		{"open", "bytes=500-", byteRange{500, 999}, true, false},
		{"suffix", "bytes=-100", byteRange{900, 999}, true, false},
		{"suffix longer than blob", "bytes=-5000", byteRange{0, 999}, true, false},
		{"end clamped", "bytes=200-5000", byteRange{200, 999}, true, false},
		{"reversed", "bytes=500-0", byteRange{}, false, true},
		{"past end", "bytes=1000-2000", byteRange{}, false, true},
		{"multi ignored", "bytes=0-1,5-6", byteRange{}, false, false},
		{"garbage ignored", "items=0-1", byteRange{}, false, false},
		{"negative ignored", "bytes=-", byteRange{}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := parseRange(tt.header, size)
			if (err != nil) != tt.wantErr || ok != tt.wantOK || got != tt.want {
				t.Fatalf("parseRange(%q) = %v, %v, %v; want %v, %v, err %v",
					tt.header, got, ok, err, tt.want, tt.wantOK, tt.wantErr)
			}
		})
	}
}

func TestParseContentRange(t *testing.T) {
	tests := []struct {
		header string
		want   byteRange
		ok     bool
	}{
		{"0-99", byteRange{0, 99}, true},
		{"bytes=100-199", byteRange{100, 199}, true},
		{"bytes 5-9/10", byteRange{5, 9}, true},
		{"9-5", byteRange{}, false},
		{"-5", byteRange{}, false},
		{"abc", byteRange{}, false},
		{"+1-2", byteRange{}, false},
	}
	for _, tt := range tests {
		got, err := parseContentRange(tt.header)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseContentRange(%q) = %v, %v", tt.header, got, err)
		}
		if err != nil && !errors.Is(err, errRangeInvalid) {
			t.Errorf("parseContentRange(%q) error %v is not errRangeInvalid", tt.header, err)
		}
	}
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-9", "bytes=-5", "bytes=5-", "bytes=9-1"} {
		f.Add(s, int64(100))
	}
	f.Fuzz(func(t *testing.T, header string, size int64) {
		if size < 0 {
			return
		}
		r, ok, err := parseRange(header, size)
		if ok && (err != nil || r.start < 0 || r.end >= size || r.start > r.end) {
			t.Fatalf("parseRange(%q, %d) = %v outside the blob", header, size, r)
		}
	})
}

func FuzzParseContentRange(f *testing.F) {
	for _, s := range []string{"0-9", "bytes 1-2/3", "bytes=4-5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		r, err := parseContentRange(header)
		if err == nil && (r.start < 0 || r.end < r.start) {
			t.Fatalf("parseContentRange(%q) = %v", header, r)
		}
	})
}

package glob

import "testing"

func TestValidate(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		wantErr  bool
	}{
		{"ok", []string{"v*", "release-*", "latest"}, false},
		{"none", nil, true},
		{"empty", []string{"v*", ""}, true},
		{"malformed", []string{"v[1"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Validate("patterns", tt.patterns); (err != nil) != tt.wantErr {
				t.Errorf("Validate(%q) = %v, want error %v", tt.patterns, err, tt.wantErr)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	patterns := []string{"v*", "release-?"}
	tests := []struct {
		name, tag, want string
		wantOK          bool
	}{
		{"prefix", "v1.2.3", "v*", true},
		{"single char", "release-1", "release-?", true},
		{"too long", "release-12", "", false},
		{"no match", "latest", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Match(patterns, tt.tag)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("Match(%q) = %q, %v, want %q, %v", tt.tag, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

package crawl

import "testing"

func TestCanonicalize(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		strip    bool
	}{
		{"HTTP://Example.COM:80/a/./b/../c?x=1#frag", "http://example.com/a/c?x=1", true},
		{"https://example.com:443/", "https://example.com/", true},
		{"https://example.com:8443/", "https://example.com:8443/", true},
		{"http://example.com/%7euser/%2f%aa", "http://example.com/~user/%2F%AA", true},
		{"http://example.com/a?utm_source=x", "http://example.com/a", true},
		{"http://example.com/a?id=3&utm_medium=y&fbclid=z&gclid=w", "http://example.com/a?id=3", true},
		{"http://example.com/a?utm_source=x", "http://example.com/a?utm_source=x", false},
		{"http://example.com", "http://example.com/", true},
	} {
		got, err := Canonicalize(tc.in, tc.strip)
		if err != nil || got != tc.want {
			t.Errorf("Canonicalize(%q, %t) = %q, %v; want %q", tc.in, tc.strip, got, err, tc.want)
		}
	}
}

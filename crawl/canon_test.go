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

// The fast path agrees with the WHATWG parser on every URL it accepts.
func FuzzAlreadyCanonical(f *testing.F) {
	for _, s := range []string{
		"http://127.0.0.1:44885/img/00001/gallery-1.jpg",
		"https://example.com/a/b?c=d&e",
		"http://example.com:80/", "https://a.example:443/x", "http://example.com:8080/a/./b",
		"http://EXAMPLE.com/", "http://127.1/", "http://0x7f.0.0.1/", "http://1.2.3.4.5/",
		"http://example.com/a?utm_source=x", "http://ex_ample.com/", "http://xn--bcher-kva.example/",
		"http://example.com/a b", "http://example.com/%7e", "http://example.com/a/..", "http://example.com/'",
		"http://example.com/?'", "http://foo.123/", "http://example.com./", "http://a..b/", "http://example.com:0/",
		"http://example.com:65536/", "http://user@example.com/", "http://example.com/a\\b", "http://example.com/a#b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, strip := range []bool{true, false} {
			if !alreadyCanonical(raw, strip) {
				continue
			}
			want, err := canonicalizeSlow(raw, strip)
			if err != nil {
				t.Fatalf("%q: accepted by the fast path, rejected by the parser: %v", raw, err)
			}
			if want != raw {
				t.Fatalf("%q: fast path keeps it, the parser gives %q", raw, want)
			}
		}
	})
}

func TestRepeatsPath(t *testing.T) {
	for _, tc := range []struct {
		path string
		want bool
	}{
		{"/a/a/a/a", true}, {"a/a/a/a", true}, {"/a/a/a", false}, {"/a/b/a/c/a/d/a", true},
		{"", false}, {"/", false}, {"////", false}, {"/x/y/z/x/y/z", false},
	} {
		if got := repeatsPath(tc.path, 3); got != tc.want {
			t.Errorf("repeatsPath(%q, 3) = %t", tc.path, got)
		}
	}
}

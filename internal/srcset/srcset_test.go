package srcset

import (
	"reflect"
	"testing"
)

func TestURLs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"a.jpg", []string{"a.jpg"}},
		{"a.jpg 1x, b.jpg 2x", []string{"a.jpg", "b.jpg"}},
		{" a.jpg 480w,b.jpg 800w ", []string{"a.jpg", "b.jpg"}},
		{"img/a,b.jpg 1x, c.jpg 2x", []string{"img/a,b.jpg", "c.jpg"}},
		{"a.jpg,b.jpg", []string{"a.jpg,b.jpg"}}, // one URL, as the HTML standard parses it
		{"a.jpg, b.jpg", []string{"a.jpg", "b.jpg"}},
		{"a.jpg,, b.jpg 2x", []string{"a.jpg", "b.jpg"}},
		{"a.jpg (w, h) 2x, b.jpg", []string{"a.jpg", "b.jpg"}}, // a comma inside parentheses is a descriptor's
		{"https://cdn.example/i.jpg?w=1,2 100w, /j.jpg 200w", []string{"https://cdn.example/i.jpg?w=1,2", "/j.jpg"}},
		{"", nil},
		{" , ,", nil},
	} {
		if got := URLs(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("URLs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// The spans cover the URLs only: what lies between them (separators,
// descriptors) is left for a rewriter to copy as it is.
func FuzzEach(f *testing.F) {
	f.Add("a.jpg 1x, b,c.jpg 2x,, (x, y) d.jpg")
	f.Fuzz(func(t *testing.T, s string) {
		last := 0
		Each(s, func(start, end int) {
			if start < last || end <= start || end > len(s) {
				t.Fatalf("%q: span [%d,%d) after %d", s, start, end, last)
			}
			for i := start; i < end; i++ {
				if isSpace(s[i]) {
					t.Fatalf("%q: span [%d,%d) holds white space", s, start, end)
				}
			}
			if s[end-1] == ',' {
				t.Fatalf("%q: span [%d,%d) ends in a comma", s, start, end)
			}
			last = end
		})
	})
}

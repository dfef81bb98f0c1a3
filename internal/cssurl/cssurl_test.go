package cssurl

import "testing"

func TestURLValue(t *testing.T) {
	for in, want := range map[string]string{
		`url(a.png)`:                        "a.png",
		`url( "b c.png" )`:                  "b c.png",
		`url('d\'e.png')`:                   "d'e.png",
		`url(cur\(1\).cur)`:                 "cur(1).cur",
		`url(\66 oo.png)`:                   "foo.png",
		`url("line\` + "\n" + `break.png")`: "linebreak.png",
	} {
		if got := URLValue([]byte(in)); got != want {
			t.Errorf("URLValue(%q) = %q, want %q", in, got, want)
		}
	}
}

package warc

import (
	"os"
	"path/filepath"
	"testing"
)

// TestAddIndexMerges: new lines are merged into the sorted index, in byte
// order, without duplicates, whatever the order they come in.
func TestAddIndexMerges(t *testing.T) {
	c, err := OpenCollection(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddIndex([]string{"com,b)/ 2", "com,a)/ 1", "com,d)/ 4"}); err != nil {
		t.Fatal(err)
	}
	if err := c.AddIndex([]string{"com,c)/ 3", "com,a)/ 1", "com,e)/ 5", "com,a)/ 0"}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(c.Dir, IndexPath))
	if err != nil {
		t.Fatal(err)
	}
	want := "com,a)/ 0\ncom,a)/ 1\ncom,b)/ 2\ncom,c)/ 3\ncom,d)/ 4\ncom,e)/ 5\n"
	if string(got) != want {
		t.Errorf("index:\n%s\nwant:\n%s", got, want)
	}
}

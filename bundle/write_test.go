package bundle_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/bundle"
)

func TestWriteReplacesThePreviousBundleWhole(t *testing.T) {
	out := t.TempDir()
	old := &bundle.Bundle{Name: "svc", Version: "1.0.0", Files: []bundle.File{{Path: "a.txt", Data: []byte("old")}, {Path: "gone.txt", Data: []byte("x")}}}
	dir, err := old.Write(out)
	require.NoError(t, err)

	next := &bundle.Bundle{Name: "svc", Version: "1.0.0", Files: []bundle.File{{Path: "a.txt", Data: []byte("new")}}}
	_, err = next.Write(out)
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join(dir, "a.txt"))
	require.NoError(t, err)
	require.Equal(t, "new", string(got))
	require.NoFileExists(t, filepath.Join(dir, "gone.txt"), "files of the previous bundle must not linger")
	requireOnly(t, filepath.Dir(dir), "1.0.0")
}

func TestFailedWriteLeavesThePreviousBundleUntouched(t *testing.T) {
	out := t.TempDir()
	good := &bundle.Bundle{Name: "svc", Version: "1.0.0", Files: []bundle.File{{Path: "a.txt", Data: []byte("old")}}}
	dir, err := good.Write(out)
	require.NoError(t, err)

	// "a.txt" as a file and as a directory cannot both be written: the
	// write fails after the first file is already in the temporary tree.
	broken := &bundle.Bundle{Name: "svc", Version: "1.0.0", Files: []bundle.File{
		{Path: "a.txt", Data: []byte("new")}, {Path: "a.txt/b.txt", Data: []byte("x")},
	}}
	_, err = broken.Write(out)
	require.Error(t, err)
	got, err := os.ReadFile(filepath.Join(dir, "a.txt"))
	require.NoError(t, err)
	require.Equal(t, "old", string(got))
	requireOnly(t, filepath.Dir(dir), "1.0.0")
}

// requireOnly asserts dir holds exactly the named entries (no temporaries).
func requireOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	require.ElementsMatch(t, names, got)
}

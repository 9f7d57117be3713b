package bundle_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

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

func TestWriteRefusesPathsOutsideTheBundle(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    bundle.Bundle
	}{
		{"a file path climbing out", bundle.Bundle{Name: "svc", Version: "1.0.0", Files: []bundle.File{{Path: "../../escaped.txt"}}}},
		{"a file path climbing out midway", bundle.Bundle{Name: "svc", Version: "1.0.0", Files: []bundle.File{{Path: "dashboards/../../../escaped.json"}}}},
		{"an absolute file path", bundle.Bundle{Name: "svc", Version: "1.0.0", Files: []bundle.File{{Path: "/tmp/escaped.txt"}}}},
		{"a backslash path", bundle.Bundle{Name: "svc", Version: "1.0.0", Files: []bundle.File{{Path: `..\escaped.txt`}}}},
		{"a name climbing out", bundle.Bundle{Name: "../../escaped", Version: "1.0.0", Files: []bundle.File{{Path: "a.txt"}}}},
		{"an absolute name", bundle.Bundle{Name: "/tmp/escaped", Version: "1.0.0", Files: []bundle.File{{Path: "a.txt"}}}},
		{"a version climbing out", bundle.Bundle{Name: "svc", Version: "..", Files: []bundle.File{{Path: "a.txt"}}}},
		{"the same path twice", bundle.Bundle{Name: "svc", Version: "1.0.0", Files: []bundle.File{{Path: "a.txt"}, {Path: "a.txt"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			out := filepath.Join(root, "a", "b", "out")
			_, err := tc.b.Write(out)
			require.ErrorContains(t, err, "refusing to write")
			requireOnly(t, root)
		})
	}
}

func TestAFileWhereTheBundleGoesIsRefusedNotDeleted(t *testing.T) {
	out := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(out, "svc"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(out, "svc", "1.0.0"), []byte("mine"), 0o644))
	b := &bundle.Bundle{Name: "svc", Version: "1.0.0", Files: []bundle.File{{Path: "a.txt", Data: []byte("new")}}}
	_, err := b.Write(out)
	require.ErrorContains(t, err, filepath.Join(out, "svc", "1.0.0")+" exists and is a regular file, not a directory: move it away")
	got, err := os.ReadFile(filepath.Join(out, "svc", "1.0.0"))
	require.NoError(t, err)
	require.Equal(t, "mine", string(got))
	requireOnly(t, filepath.Join(out, "svc"), "1.0.0")

	elsewhere := t.TempDir()
	require.NoError(t, os.Remove(filepath.Join(out, "svc", "1.0.0")))
	require.NoError(t, os.Symlink(elsewhere, filepath.Join(out, "svc", "1.0.0")))
	_, err = b.Write(out)
	require.ErrorContains(t, err, "exists and is a symbolic link, not a directory")
	requireOnly(t, elsewhere)
}

func TestAFailedFirstWriteLeavesNoEmptyDirectory(t *testing.T) {
	out := filepath.Join(t.TempDir(), "dist")
	broken := &bundle.Bundle{Name: "svc", Version: "1.0.0", Files: []bundle.File{
		{Path: "a.txt", Data: []byte("new")}, {Path: "a.txt/b.txt", Data: []byte("x")},
	}}
	_, err := broken.Write(out)
	require.Error(t, err)
	require.NoDirExists(t, out)
}

// deadPID is the id of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	require.NoError(t, cmd.Run())
	return cmd.Process.Pid
}

func TestStaleTemporariesOfKilledRunsAreRemovedAndNothingElse(t *testing.T) {
	out := t.TempDir()
	parent := filepath.Join(out, "svc")
	old := time.Now().Add(-time.Hour)
	mkdir := func(name string, files map[string]string, mtime time.Time) {
		dir := filepath.Join(parent, name)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		for f, data := range files {
			require.NoError(t, os.WriteFile(filepath.Join(dir, f), []byte(data), 0o644))
		}
		require.NoError(t, os.Chtimes(dir, mtime, mtime))
	}
	marker := ".obsbundle-incomplete"
	dead := strconv.Itoa(deadPID(t))
	manifest := `{"name": "svc", "version": "1.0.0", "generator": "obsbundle"}`
	// Left by killed runs: removed.
	mkdir(".1.0.0.tmp-111", map[string]string{marker: dead, "a.txt": "half"}, old)
	mkdir(".1.0.0.tmp-222", map[string]string{"manifest.json": manifest}, old)
	// Not ours, not stale, or still being written: kept.
	mkdir(".1.0.0.tmp-333", map[string]string{"notes.txt": "someone's"}, old)
	mkdir(".1.0.0.tmp-444", map[string]string{marker: strconv.Itoa(os.Getpid())}, old)
	mkdir(".1.0.0.tmp-555", map[string]string{marker: dead}, time.Now().Add(time.Hour))
	mkdir(".1.0.0.tmp-556", map[string]string{"manifest.json": manifest}, time.Now().Add(-10*time.Second))
	mkdir(".2.0.0.tmp-666", map[string]string{marker: dead}, old)
	mkdir(".1.0.0.tmp-abc", map[string]string{marker: dead}, old)
	mkdir("1.0.0.tmp-777", map[string]string{marker: dead}, old)
	require.NoError(t, os.WriteFile(filepath.Join(parent, ".1.0.0.tmp-888"), []byte(dead), 0o644))
	target := filepath.Join(out, "elsewhere")
	mkdir("../elsewhere", map[string]string{marker: dead}, old)
	require.NoError(t, os.Symlink(target, filepath.Join(parent, ".1.0.0.tmp-999")))

	b := &bundle.Bundle{Name: "svc", Version: "1.0.0", Files: []bundle.File{{Path: "a.txt", Data: []byte("new")}}}
	_, err := b.Write(out)
	require.NoError(t, err)
	requireOnly(t, parent, "1.0.0", ".1.0.0.tmp-333", ".1.0.0.tmp-444", ".1.0.0.tmp-555", ".1.0.0.tmp-556", ".2.0.0.tmp-666",
		".1.0.0.tmp-abc", "1.0.0.tmp-777", ".1.0.0.tmp-888", ".1.0.0.tmp-999")
	require.FileExists(t, filepath.Join(target, marker), "a link is never followed")
	require.NoFileExists(t, filepath.Join(parent, "1.0.0", marker), "the marker never reaches the bundle")
}

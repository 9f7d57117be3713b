package bundle_test

import (
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/bundle"
	"github.com/tensorwasm/obsbundle/internal/examples"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/targets"
)

var update = flag.Bool("update", false, "rewrite the golden files from the current output")

// specs are the bundles whose whole output is pinned by golden files.
func specs(t *testing.T) map[string]model.Spec { return examples.Specs(t) }

func TestBundlesMatchGoldenFiles(t *testing.T) {
	for name, s := range specs(t) {
		t.Run(name, func(t *testing.T) {
			b, err := bundle.Build(s, targets.Kubernetes, targets.Mimir, targets.GrafanaAlerting)
			require.NoError(t, err)
			// The golden bundles are the committed examples the demo stack
			// mounts: stale output fails here.
			dir := filepath.Join("..", "examples", "bundles", s.Name, s.Version)
			if *update {
				require.NoError(t, os.RemoveAll(dir))
				for _, f := range b.Files {
					p := filepath.Join(dir, filepath.FromSlash(f.Path))
					require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
					require.NoError(t, os.WriteFile(p, f.Data, 0o644))
				}
			}
			want := map[string]bool{}
			require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				rel, _ := filepath.Rel(dir, p)
				want[filepath.ToSlash(rel)] = true
				return nil
			}))
			for _, f := range b.Files {
				golden, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
				require.NoError(t, err, "no golden file for %s; run go test ./bundle -update", f.Path)
				require.Equal(t, string(golden), string(f.Data), "%s is stale; run go test ./bundle -update and review the diff", f.Path)
				delete(want, f.Path)
			}
			require.Empty(t, want, "golden files the bundle no longer produces")
		})
	}
}

func TestBuildIsDeterministic(t *testing.T) {
	for name, s := range specs(t) {
		a, err := bundle.Build(s)
		require.NoError(t, err)
		b, err := bundle.Build(s)
		require.NoError(t, err)
		ja, err := a.JSON()
		require.NoError(t, err)
		jb, err := b.JSON()
		require.NoError(t, err)
		require.Equal(t, string(ja), string(jb), name)
	}
}

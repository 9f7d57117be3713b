package runbooks_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tensorwasm/obsbundle/bundle"
	"github.com/tensorwasm/obsbundle/catalog"
	"github.com/tensorwasm/obsbundle/model"
	"github.com/tensorwasm/obsbundle/rules"
	"github.com/tensorwasm/obsbundle/runbooks"
)

func TestEveryAlertHasARunbookWithItsExactExpression(t *testing.T) {
	s := catalog.TensorWasm()
	b, err := bundle.Build(s)
	require.NoError(t, err)
	groups, err := rules.Build(&s.Services[0], s.Version)
	require.NoError(t, err)
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			id := strings.TrimSuffix(filepath.Base(r.Annotations[model.AnnotationRunbook]), ".md")
			doc, ok := b.File(runbooks.File(id))
			require.True(t, ok, "%s has no runbook at %s", r.Alert, runbooks.File(id))
			expr, err := model.ParseExpr(r.Expr)
			require.NoError(t, err)
			require.Contains(t, string(doc), expr.String(), "the runbook of %s quotes its expression", r.Alert)
		}
	}
	fast, _ := b.File(runbooks.File("availability-fast-burn"))
	require.Contains(t, string(fast), "| 100% | 4m19s | 2% | 4m38s |", "numbers from the report")
	require.Regexp(t, `\[availability_http \(30d\)\]\(http://localhost:3000/d/tensor-wasm-service\?viewPanel=\d+\)`, string(fast))
}

func TestRegenerationKeepsOperatorProseByteForByte(t *testing.T) {
	s := catalog.TensorWasm()
	old, err := bundle.Build(s)
	require.NoError(t, err)
	doc, _ := old.File(runbooks.File("availability-fast-burn"))
	prose := "Seen twice: the auth backend flaps.  \n\n```sh\njournalctl -u tensor-wasm | grep 502\n```\n\tTabs and trailing spaces stay.  \n"
	edited := regexp.MustCompile(`(?s)(<!-- operator:begin causes -->\n).*?(<!-- operator:end causes -->)`).
		ReplaceAllString(string(doc), "${1}"+strings.ReplaceAll(prose, "$", "$$")+"${2}")
	require.NotEqual(t, string(doc), edited)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "availability-fast-burn.md"), []byte(edited), 0o644))

	// The next release changes the tier; the prose survives, exactly.
	s.Services[0].SLOs[0].Tiers[0].Factor = 10
	next, err := bundle.Build(s)
	require.NoError(t, err)
	require.NoError(t, next.KeepRunbookProse(dir))
	merged, _ := next.File(runbooks.File("availability-fast-burn"))
	require.Contains(t, string(merged), "<!-- operator:begin causes -->\n"+prose+"<!-- operator:end causes -->")
	require.Contains(t, string(merged), "10x the 0.5%", "the generated part follows the new spec")
	manifest, _ := next.File(model.ManifestFile)
	sum := sha256.Sum256(merged)
	require.Contains(t, string(manifest), hex.EncodeToString(sum[:]), "the manifest checksums the merged runbook")
}

func TestProseOfASectionNoLongerGeneratedIsKept(t *testing.T) {
	previous := []byte("x\n<!-- operator:begin history -->\nkeep me\n<!-- operator:end history -->\n")
	merged := runbooks.Merge([]byte("generated\n"), previous)
	require.Contains(t, string(merged), "<!-- operator:begin history -->\nkeep me\n<!-- operator:end history -->")
}

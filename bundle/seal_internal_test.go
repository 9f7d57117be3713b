package bundle

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTwoProducersOfOnePathAreAnInternalError(t *testing.T) {
	b := &Bundle{Name: "x", Version: "1.0.0"}
	b.add("the runbooks of service a", "runbooks/a.md", []byte("a"))
	b.add("the rules of service b", "rules/b.rules.yaml", nil)
	b.add("the runbooks of service b", "runbooks/a.md", []byte("b"))
	require.EqualError(t, b.seal(), "internal error: the runbooks of service a and the runbooks of service b both produce the file runbooks/a.md")
}

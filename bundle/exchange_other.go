//go:build !linux

package bundle

import "os"

// exchange swaps two existing directories with two renames: not atomic, but
// the previous bundle is moved aside, never deleted, until the new one is in.
func exchange(a, b string) error {
	aside := a + ".old"
	if err := os.Rename(b, aside); err != nil {
		return err
	}
	if err := os.Rename(a, b); err != nil {
		_ = os.Rename(aside, b)
		return err
	}
	return os.Rename(aside, a)
}

package bundle

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Dir is where a bundle lands under out: one directory per name and
// version, so releases sit side by side.
func (b *Bundle) Dir(out string) string { return filepath.Join(out, b.Name, b.Version) }

// Write puts the bundle under out and returns its directory. It writes into
// a temporary sibling directory and swaps it into place in one rename, so a
// failed run leaves the previous bundle untouched and no partial directory.
func (b *Bundle) Write(out string) (string, error) {
	final := b.Dir(out)
	parent := filepath.Dir(final)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("creating %s: %w", parent, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+b.Version+".tmp-")
	if err != nil {
		return "", fmt.Errorf("creating a temporary directory in %s: %w", parent, err)
	}
	defer os.RemoveAll(tmp) // after a swap it holds the previous bundle
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", err
	}
	for _, f := range b.Files {
		if err := writeFile(filepath.Join(tmp, filepath.FromSlash(f.Path)), f.Data); err != nil {
			return "", err
		}
	}
	if err := swap(tmp, final); err != nil {
		return "", fmt.Errorf("moving the bundle into %s: %w", final, err)
	}
	return final, nil
}

func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// swap moves the directory src to dst. When dst exists the two are
// exchanged atomically, and src then holds the old content.
func swap(src, dst string) error {
	if _, err := os.Lstat(dst); errors.Is(err, fs.ErrNotExist) {
		return os.Rename(src, dst)
	}
	return exchange(src, dst)
}

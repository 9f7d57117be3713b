package bundle

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/tensorwasm/obsbundle/model"
)

// Dir is where a bundle lands under out: one directory per name and
// version, so releases sit side by side.
func (b *Bundle) Dir(out string) string { return filepath.Join(out, b.Name, b.Version) }

// incompleteMarker is written first into every temporary directory and
// removed just before the swap: a directory that still holds it was left
// by a run that never finished. It holds the writing process's id.
const incompleteMarker = "." + model.Generator + "-incomplete"

// Write puts the bundle under out and returns its directory. It writes into
// a temporary sibling directory and swaps it into place in one rename, so a
// failed run leaves the previous bundle untouched and no partial directory.
// It refuses a name, version or file path that would land outside its
// directory, and anything but a directory where the bundle goes; it
// removes the temporary directories earlier runs left when killed.
func (b *Bundle) Write(out string) (dir string, err error) {
	if err := b.checkPaths(); err != nil {
		return "", err
	}
	final := b.Dir(out)
	if info, err := os.Lstat(final); err == nil && !info.IsDir() {
		return "", fmt.Errorf("%s exists and is %s, not a directory: move it away or write under another -out", final, kind(info.Mode()))
	}
	parent := filepath.Dir(final)
	created := missingAncestors(parent)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("creating %s: %w", parent, err)
	}
	defer func() {
		if err != nil { // leave no empty directory behind
			for _, d := range created {
				_ = os.Remove(d)
			}
		}
	}()
	removeStale(parent, b.Version, time.Now())
	tmp, err := os.MkdirTemp(parent, tempPrefix(b.Version))
	if err != nil {
		return "", fmt.Errorf("creating a temporary directory in %s: %w", parent, err)
	}
	defer os.RemoveAll(tmp) // after a swap it holds the previous bundle
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", err
	}
	marker := filepath.Join(tmp, incompleteMarker)
	if err := writeFile(marker, []byte(strconv.Itoa(os.Getpid())+"\n")); err != nil {
		return "", err
	}
	for _, f := range b.Files {
		p, err := inside(tmp, f.Path)
		if err != nil {
			return "", err
		}
		if err := writeFile(p, f.Data); err != nil {
			return "", err
		}
	}
	if err := os.Remove(marker); err != nil {
		return "", err
	}
	if err := swap(tmp, final); err != nil {
		return "", fmt.Errorf("moving the bundle into %s: %w", final, err)
	}
	return final, nil
}

// kind names what a non-directory file is, for messages.
func kind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "a special file (" + m.Type().String() + ")"
}

// checkPaths refuses a bundle whose name, version or file paths would
// write outside its directory, or two files at one path.
func (b *Bundle) checkPaths() error {
	for _, c := range []struct{ what, v string }{{"name", b.Name}, {"version", b.Version}} {
		if !component(c.v) {
			return fmt.Errorf("refusing to write a bundle with %s %q: it must be one plain path component", c.what, c.v)
		}
	}
	seen := map[string]bool{}
	for _, f := range b.Files {
		if !localPath(f.Path) || f.Path == incompleteMarker {
			return fmt.Errorf("refusing to write %q: a bundle file path must be relative, clean and stay inside the bundle", f.Path)
		}
		if seen[f.Path] {
			return fmt.Errorf("refusing to write %q twice", f.Path)
		}
		seen[f.Path] = true
	}
	return nil
}

// component says whether s names one entry of a directory, nothing more.
func component(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, "/\\\x00") && filepath.IsLocal(s)
}

// localPath says whether a slash-separated bundle path is relative, clean
// and free of ".." and of separators of other systems.
func localPath(p string) bool {
	return p != "" && !path.IsAbs(p) && path.Clean(p) == p && !strings.ContainsAny(p, "\\\x00") &&
		filepath.IsLocal(filepath.FromSlash(p))
}

// inside joins a bundle path to root, and refuses any result outside root.
func inside(root, p string) (string, error) {
	if !localPath(p) {
		return "", fmt.Errorf("refusing to write %q: outside the bundle", p)
	}
	full := filepath.Join(root, filepath.FromSlash(p))
	rel, err := filepath.Rel(root, full)
	if err != nil || !filepath.IsLocal(rel) {
		return "", fmt.Errorf("refusing to write %q: outside the bundle", p)
	}
	return full, nil
}

// missingAncestors lists, deepest first, dir and those of its parents that
// do not exist yet.
func missingAncestors(dir string) []string {
	var out []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); !errors.Is(err, fs.ErrNotExist) {
			return out
		}
		out = append(out, d)
		if filepath.Dir(d) == d {
			return out
		}
	}
}

func tempPrefix(version string) string { return "." + version + ".tmp-" }

// staleAfter is how long before a run started a temporary directory must
// have last changed to count as stale: a concurrent run changes its own
// directory as it writes and swaps, so it never qualifies.
const staleAfter = time.Minute

// removeStale removes the temporary directories of this version that runs
// killed before they finished left in parent: only directories (not
// links) named like Write's temporaries, last changed at least staleAfter
// before this run started, owned by this user, and written by this generator, either
// still marked incomplete by a process that is gone or holding a previous
// bundle already swapped out. Anything else is left alone; failures are
// ignored, as the directories only take space.
func removeStale(parent, version string, started time.Time) {
	name := regexp.MustCompile(`^` + regexp.QuoteMeta(tempPrefix(version)) + `[0-9]+$`)
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !name.MatchString(e.Name()) {
			continue
		}
		dir := filepath.Join(parent, e.Name())
		info, err := os.Lstat(dir)
		if err != nil || !info.IsDir() || !info.ModTime().Before(started.Add(-staleAfter)) || !ownedByUs(info) || !abandoned(dir) {
			continue
		}
		_ = os.RemoveAll(dir)
	}
}

// abandoned says whether a temporary directory is this generator's and no
// running process still writes it.
func abandoned(dir string) bool {
	pid, err := os.ReadFile(filepath.Join(dir, incompleteMarker))
	if err == nil {
		n, err := strconv.Atoi(strings.TrimSpace(string(pid)))
		return err == nil && n > 0 && !running(n)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return false
	}
	data, err := os.ReadFile(filepath.Join(dir, model.ManifestFile))
	if err != nil {
		return false
	}
	var m Manifest
	return json.Unmarshal(data, &m) == nil && m.Generator == model.Generator
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

// Package resolver keeps account JWTs durably on the Env's file system, one file per
// account (<dir>/<account public key>.jwt), for operator mode's NATS resolver: a JWT pushed
// to the server ($SYS.REQ.CLAIMS.UPDATE) is acknowledged only once it would survive a
// crash.
package resolver

import (
	"fmt"
	"maps"
	"path"
	"strings"

	"github.com/petrel-io/petrel/core/env"
)

// Dir is a directory of account JWTs, with the stored ones kept in memory after Open reads
// them: the files are read once, written on every Store and Delete. Not safe for concurrent
// use (the server uses it on its executor).
type Dir struct {
	fs   env.FS
	dir  string
	jwts map[string]string // by account public key
}

// Open makes dir if needed, makes its creation durable, and reads the stored JWTs.
func Open(fs env.FS, dir string) (*Dir, error) {
	if err := fs.MkdirAll(dir); err != nil {
		return nil, fmt.Errorf("resolver: %s: %w", dir, err)
	}
	if parent := path.Dir(dir); parent != dir {
		if err := fs.SyncDir(parent); err != nil {
			return nil, fmt.Errorf("resolver: sync %s: %w", parent, err)
		}
	}
	d := &Dir{fs: fs, dir: dir}
	jwts, err := d.load()
	if err != nil {
		return nil, err
	}
	d.jwts = jwts
	return d, nil
}

// Stored returns the stored JWTs, by account public key (the caller's copy).
func (d *Dir) Stored() map[string]string { return maps.Clone(d.jwts) }

// Has reports whether account has a stored JWT; Len is how many are stored.
func (d *Dir) Has(account string) bool { _, ok := d.jwts[account]; return ok }
func (d *Dir) Len() int                { return len(d.jwts) }

const suffix = ".jwt"

// load reads every stored JWT, by account public key. Leftover temporary files of an
// interrupted Store are ignored (the rename that would have published them never ran).
func (d *Dir) load() (map[string]string, error) {
	names, err := d.fs.List(d.dir)
	if err != nil {
		return nil, fmt.Errorf("resolver: list %s: %w", d.dir, err)
	}
	out := map[string]string{}
	for _, n := range names {
		if !strings.HasSuffix(n, suffix) {
			continue
		}
		data, err := d.read(path.Join(d.dir, n))
		if err != nil {
			return nil, err
		}
		out[strings.TrimSuffix(n, suffix)] = strings.TrimSpace(string(data))
	}
	return out, nil
}

func (d *Dir) read(name string) ([]byte, error) {
	data, err := env.ReadFile(d.fs, name)
	if err != nil {
		return nil, fmt.Errorf("resolver: %w", err)
	}
	return data, nil
}

// Store writes account's JWT durably: a temporary file written and synced, renamed over
// the old one, and the directory synced.
func (d *Dir) Store(account, jwt string) error {
	if !validName(account) {
		return fmt.Errorf("resolver: %q is not an account public key", account)
	}
	if err := env.WriteFileDurable(d.fs, path.Join(d.dir, account+suffix), []byte(jwt)); err != nil {
		return fmt.Errorf("resolver: store %s: %w", account, err)
	}
	d.jwts[account] = jwt
	return nil
}

// Delete removes account's JWT durably.
func (d *Dir) Delete(account string) error {
	if !validName(account) {
		return fmt.Errorf("resolver: %q is not an account public key", account)
	}
	if err := d.fs.Remove(path.Join(d.dir, account+suffix)); err != nil {
		return fmt.Errorf("resolver: delete %s: %w", account, err)
	}
	if err := d.fs.SyncDir(d.dir); err != nil {
		return fmt.Errorf("resolver: delete %s: %w", account, err)
	}
	delete(d.jwts, account)
	return nil
}

// validName keeps file names to what an account public key looks like: no path tricks.
func validName(s string) bool {
	if len(s) != 56 || s[0] != 'A' {
		return false
	}
	for _, c := range s {
		if (c < 'A' || c > 'Z') && (c < '2' || c > '7') {
			return false
		}
	}
	return true
}

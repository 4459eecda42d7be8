package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Scratch is a copy of the repository's files (tracked and untracked-but-not-ignored, as they
// are in the working tree) in which mutants are applied one at a time and then restored.
type Scratch struct {
	Dir string
}

// NewScratch copies the working tree of the repository at root into a new directory under
// the system temp directory.
func NewScratch(root string) (*Scratch, error) {
	files, err := listFiles(root)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "petrel-mutate-")
	if err != nil {
		return nil, fmt.Errorf("scratch: %w", err)
	}
	for _, f := range files {
		if err := copyFile(filepath.Join(root, f), filepath.Join(dir, f)); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("scratch: copy %s: %w", f, err)
		}
	}
	return &Scratch{Dir: dir}, nil
}

// listFiles names the files git would commit: tracked ones still present, and untracked ones
// not ignored (a mutant may target a file not committed yet).
func listFiles(root string) ([]string, error) {
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("scratch: git ls-files in %s: %w", root, err)
	}
	seen := map[string]bool{}
	var files []string
	for _, f := range strings.Split(string(out), "\x00") {
		if f == "" || seen[f] {
			continue
		}
		seen[f] = true
		if info, err := os.Lstat(filepath.Join(root, f)); err != nil || !info.Mode().IsRegular() {
			continue // deleted in the working tree, or a symlink/submodule: nothing to copy
		}
		files = append(files, f)
	}
	return files, nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	info, err := in.Stat()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, info.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// ReadFile reads a repository-relative file of the scratch copy.
func (s *Scratch) ReadFile(path string) ([]byte, error) {
	return os.ReadFile(filepath.Join(s.Dir, filepath.FromSlash(path)))
}

// WriteFile overwrites a repository-relative file of the scratch copy, keeping its mode.
func (s *Scratch) WriteFile(path string, data []byte) error {
	full := filepath.Join(s.Dir, filepath.FromSlash(path))
	mode := os.FileMode(0o644)
	if info, err := os.Stat(full); err == nil {
		mode = info.Mode().Perm()
	}
	return os.WriteFile(full, data, mode)
}

// Restore puts back the files a mutant changed and checks they read back as saved.
func (s *Scratch) Restore(saved map[string][]byte) error {
	for path, data := range saved {
		if err := s.WriteFile(path, data); err != nil {
			return fmt.Errorf("scratch: restore %s: %w", path, err)
		}
		back, err := s.ReadFile(path)
		if err != nil || !bytes.Equal(back, data) {
			return fmt.Errorf("scratch: restore %s: did not read back (%v)", path, err)
		}
	}
	return nil
}

// Remove deletes the scratch copy.
func (s *Scratch) Remove() error {
	return os.RemoveAll(s.Dir)
}

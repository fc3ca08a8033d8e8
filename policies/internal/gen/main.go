// Command gen builds plugin modules with package wasmbuild, one module per
// package directory, named after the directory. Arguments are directories or
// glob patterns of directories (expanded by gen, for go generate):
//
//	go run ./policies/internal/gen -o policies/wasm 'policies/builtin/*'
//
// It writes each module to a temporary file first and renames it into place, so
// an interrupted run leaves no half-written module behind.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"berth.dev/berth/plugins/wasmbuild"
)

func main() {
	out := flag.String("o", ".", "directory to write NAME.wasm into")
	flag.Parse()
	if err := run(context.Background(), *out, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out string, args []string) error {
	dirs, err := expand(args)
	if err != nil {
		return err
	}
	for _, dir := range dirs {
		dst := filepath.Join(out, filepath.Base(filepath.Clean(dir))+".wasm")
		if err := build(ctx, dir, dst); err != nil {
			return err
		}
	}
	return nil
}

// build compiles dir to a temporary file beside dst, then renames it to dst.
func build(ctx context.Context, dir, dst string) error {
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".gen-*.wasm")
	if err != nil {
		return err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	if err := wasmbuild.Build(ctx, dir, tmp.Name()); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}

// expand returns the directories args name, expanding glob patterns and
// leaving out files they match.
func expand(args []string) ([]string, error) {
	var dirs []string
	for _, a := range args {
		m, err := filepath.Glob(a)
		if err != nil {
			return nil, err
		}
		n := len(dirs)
		for _, d := range m {
			if fi, err := os.Stat(d); err == nil && fi.IsDir() {
				dirs = append(dirs, d)
			}
		}
		if len(dirs) == n {
			return nil, fmt.Errorf("%s: no such directory", a)
		}
	}
	if len(dirs) == 0 {
		return nil, fmt.Errorf("no package directories given")
	}
	return dirs, nil
}

package thirdparty

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/blindspot-dev/blindspot/internal/golden"
)

// allowed are the licenses a module compiled into blindspot may have.
var allowed = []string{"Apache-2.0", "MIT", "BSD-2-Clause", "BSD-3-Clause", "ISC", "MPL-2.0"}

// module is one module whose packages are compiled into the blindspot binary.
type module struct {
	Path, Version, Dir string
}

// shippedModules lists the modules of the packages linked into cmd/blindspot for the image's
// platform (linux/amd64), test-only dependencies excluded: those are what the binary and the
// image distribute. It needs the modules in the module cache, nothing from the network.
func shippedModules(t *testing.T) []module {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-json=Module", "./cmd/blindspot")
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "GOFLAGS=-mod=readonly", "GOPROXY=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	seen := map[string]bool{}
	var mods []module
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p struct {
			Module *struct {
				Path, Version, Dir string
				Main               bool
				Replace            *module
			}
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		m := p.Module
		if m == nil || m.Main || seen[m.Path] {
			continue // the standard library (BSD-3-Clause, like Go) or blindspot itself
		}
		seen[m.Path] = true
		if m.Replace != nil {
			m.Version, m.Dir = m.Replace.Version, m.Replace.Dir
		}
		if m.Dir == "" {
			t.Fatalf("module %s@%s is not in the module cache (go mod download)", m.Path, m.Version)
		}
		mods = append(mods, module{Path: m.Path, Version: m.Version, Dir: m.Dir})
	}
	slices.SortFunc(mods, func(a, b module) int { return strings.Compare(a.Path, b.Path) })
	if len(mods) < 20 {
		t.Fatalf("go list found only %d modules", len(mods))
	}
	return mods
}

var (
	licenseFile = regexp.MustCompile(`(?i)^(licen[cs]e|copying)([-._].*)?$`)
	noticeFile  = regexp.MustCompile(`(?i)^notice(\.txt|\.md)?$`)
)

// classify names the licenses a license file's text grants, by the sentences each license's
// text consists of; a file may hold several (a dual-licensed module).
func classify(text string) []string {
	t := strings.Join(strings.Fields(text), " ")
	has := func(s ...string) bool {
		for _, x := range s {
			if !strings.Contains(t, x) {
				return false
			}
		}
		return true
	}
	var ids []string
	if has("Apache License", "Version 2.0") {
		ids = append(ids, "Apache-2.0")
	}
	if has("Permission is hereby granted, free of charge, to any person obtaining a copy") {
		ids = append(ids, "MIT")
	}
	if has("Redistribution and use in source and binary forms, with or without modification, are permitted") {
		if regexp.MustCompile(`(?i)neither the name|names of (its|the) contributors|name of the copyright holder`).MatchString(t) {
			ids = append(ids, "BSD-3-Clause")
		} else {
			ids = append(ids, "BSD-2-Clause")
		}
	}
	if regexp.MustCompile(`Permission to use, copy, modify, and(/or)? distribute this software for any purpose with or without fee is hereby granted`).MatchString(t) {
		ids = append(ids, "ISC")
	}
	if has("Mozilla Public License Version 2.0") || has("Mozilla Public License, v. 2.0") {
		ids = append(ids, "MPL-2.0")
	}
	return ids
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
	}{
		{"MIT's grant is MIT.", "Copyright (c) 2014 X\n\nPermission is hereby granted, free of charge, to any\nperson obtaining a copy of this software", []string{"MIT"}},
		{"BSD with the no-endorsement clause is BSD-3-Clause.", "Redistribution and use in source and binary forms, with or without\nmodification, are permitted provided ... Neither the name of Google Inc. nor", []string{"BSD-3-Clause"}},
		{"BSD without it is BSD-2-Clause.", "Redistribution and use in source and binary forms, with or without modification, are permitted provided that the following conditions are met:", []string{"BSD-2-Clause"}},
		{"The GPL is none of the allowed licenses.", "GNU GENERAL PUBLIC LICENSE Version 3, 29 June 2007", nil},
		{"A dual MIT and Apache file is both.", "Permission is hereby granted, free of charge, to any person obtaining a copy\n...\nApache License\nVersion 2.0, January 2004", []string{"Apache-2.0", "MIT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := classify(tt.text); !slices.Equal(got, tt.want) {
				t.Errorf("classify = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestThirdParty(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list over the module cache")
	}
	mods := shippedModules(t)

	t.Run("Every module compiled into blindspot has a license file, each of an allowed license.", func(t *testing.T) {
		for _, m := range mods {
			entries, err := os.ReadDir(m.Dir)
			if err != nil {
				t.Fatal(err)
			}
			var found []string
			for _, e := range entries {
				if e.IsDir() || !licenseFile.MatchString(e.Name()) || strings.HasSuffix(e.Name(), ".go") {
					continue
				}
				data, err := os.ReadFile(filepath.Join(m.Dir, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				ids := classify(string(data))
				if !slices.ContainsFunc(ids, func(id string) bool { return slices.Contains(allowed, id) }) {
					t.Errorf("%s@%s: %s is none of %v", m.Path, m.Version, e.Name(), allowed)
				}
				found = append(found, e.Name())
			}
			if len(found) == 0 {
				t.Errorf("%s@%s has no license file in %s", m.Path, m.Version, m.Dir)
			}
		}
	})

	t.Run("NOTICE carries the NOTICE file of every module that ships one (go test -update rewrites it).", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("blindspot\nCopyright 2026 The blindspot Authors\n\n" +
			"This product is licensed under the Apache License, Version 2.0 (see LICENSE).\n\n" +
			"It includes the following modules, whose NOTICE files are reproduced below as\n" +
			"section 4(d) of the Apache License, Version 2.0 requires.\n")
		var n int
		for _, m := range mods {
			entries, err := os.ReadDir(m.Dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if e.IsDir() || !noticeFile.MatchString(e.Name()) {
					continue
				}
				data, err := os.ReadFile(filepath.Join(m.Dir, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				n++
				fmt.Fprintf(&b, "\n%s\n%s (%s)\n%s\n\n%s\n", strings.Repeat("=", 78), m.Path, e.Name(), strings.Repeat("=", 78), strings.TrimRight(string(data), "\n \t"))
			}
		}
		if n == 0 {
			t.Fatal("no module ships a NOTICE file: the module list is wrong")
		}
		golden.Check(t, filepath.Join("..", "..", "NOTICE"), []byte(b.String()))
	})

	t.Run("LICENSE is the Apache License 2.0.", func(t *testing.T) {
		data, err := os.ReadFile(filepath.Join("..", "..", "LICENSE"))
		if err != nil {
			t.Fatal(err)
		}
		if ids := classify(string(data)); !slices.Equal(ids, []string{"Apache-2.0"}) || !strings.Contains(string(data), "END OF TERMS AND CONDITIONS") {
			t.Errorf("LICENSE is %v, not the full Apache-2.0 text", ids)
		}
	})
}

package drivertest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"testing"
)

// fuzzSeeds checks that each named fuzz target is declared in a test file
// of p.Dir and adds seeds: a call of f.Add in its body, or a seed corpus in
// testdata/fuzz/<target>.
func fuzzSeeds(t *testing.T, p Pair) {
	files, err := filepath.Glob(filepath.Join(p.Dir, "*_test.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files in %s (%v)", p.Dir, err)
	}
	seeded := map[string]bool{}
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatalf("parse %s: %v", name, err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || fn.Body == nil {
				continue
			}
			_, seen := seeded[fn.Name.Name]
			seeded[fn.Name.Name] = seen && seeded[fn.Name.Name] || addsSeeds(fn)
		}
	}
	for _, target := range p.Fuzz {
		has, declared := seeded[target]
		if !declared {
			t.Errorf("fuzz target %s is not declared in %s", target, p.Dir)
			continue
		}
		if corpus, err := os.ReadDir(filepath.Join(p.Dir, "testdata", "fuzz", target)); err == nil && len(corpus) > 0 {
			has = true
		}
		if !has {
			t.Errorf("fuzz target %s adds no seeds (no f.Add, no testdata/fuzz/%s)", target, target)
		}
	}
}

// addsSeeds reports whether a fuzz function calls Add on its *testing.F.
func addsSeeds(fn *ast.FuncDecl) bool {
	params := fn.Type.Params.List
	if len(params) != 1 || len(params[0].Names) != 1 {
		return false
	}
	f := params[0].Names[0].Name
	found := false
	ast.Inspect(fn.Body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return !found
		}
		if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Add" {
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == f {
				found = true
			}
		}
		return !found
	})
	return found
}

package eradicate_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExportedNamesHaveDocs enforces the project rule "docs on every
// exported name" over the module's non-test Go files: every exported
// function, method of an exported type, type, constant and variable, and
// every exported field of an exported struct or interface type, has a doc
// comment. A doc comment on a const, var or type group covers the group's
// names; a trailing line comment also counts for a field or a value.
func TestExportedNamesHaveDocs(t *testing.T) {
	// The test runs in the module root, next to go.mod.
	require.FileExists(t, "go.mod")

	var missing []string
	files := 0
	err := walkSources(".", parser.ParseComments|parser.SkipObjectResolution, func(path string, fset *token.FileSet, f *ast.File) error {
		files++
		missing = append(missing, undocumented(fset, f)...)
		return nil
	})
	require.NoError(t, err)
	require.NotZero(t, files, "no Go file found: the walk must start in the module root")

	assert.Zero(t, len(missing),
		"exported names without a doc comment (the project rule is docs on every exported name):\n\t%s",
		strings.Join(missing, "\n\t"))
}

// walkSources parses every non-test Go file below root with mode and calls
// fn with it, skipping testdata and directories whose name starts with "."
// or "_", as the go command does.
func walkSources(root string, mode parser.Mode, fn func(path string, fset *token.FileSet, f *ast.File) error) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, mode)
		if err != nil {
			return err
		}
		return fn(path, fset, f)
	})
}

// undocumented returns "file:line: what Name" for each exported name of f
// that lacks a doc comment.
func undocumented(fset *token.FileSet, f *ast.File) []string {
	var out []string
	report := func(pos token.Pos, what, name string) {
		p := fset.Position(pos)
		out = append(out, fmt.Sprintf("%s:%d: %s %s", filepath.ToSlash(p.Filename), p.Line, what, name))
	}
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if !d.Name.IsExported() || d.Doc != nil {
				continue
			}
			if d.Recv == nil {
				report(d.Name.Pos(), "func", d.Name.Name)
				continue
			}
			recv := receiverType(d.Recv.List[0].Type)
			if recv == nil || !recv.IsExported() {
				continue // a method of an unexported type is not documented API
			}
			report(d.Name.Pos(), "method", recv.Name+"."+d.Name.Name)

		case *ast.GenDecl:
			for _, spec := range d.Specs {
				switch s := spec.(type) {
				case *ast.TypeSpec:
					if !s.Name.IsExported() {
						continue
					}
					if s.Doc == nil && d.Doc == nil {
						report(s.Name.Pos(), "type", s.Name.Name)
					}
					var fields *ast.FieldList
					switch tt := s.Type.(type) {
					case *ast.StructType:
						fields = tt.Fields
					case *ast.InterfaceType:
						fields = tt.Methods
					}
					if fields == nil {
						continue
					}
					for _, field := range fields.List {
						if field.Doc != nil || field.Comment != nil {
							continue
						}
						for _, n := range field.Names { // embedded fields have none
							if n.IsExported() {
								report(n.Pos(), "field", s.Name.Name+"."+n.Name)
							}
						}
					}

				case *ast.ValueSpec:
					if s.Doc != nil || d.Doc != nil || s.Comment != nil {
						continue
					}
					for _, n := range s.Names {
						if n.IsExported() {
							report(n.Pos(), d.Tok.String(), n.Name)
						}
					}
				}
			}
		}
	}
	return out
}

// receiverType returns the name of a method receiver's base type: T for
// T, *T, T[P] and *T[P, Q].
func receiverType(x ast.Expr) *ast.Ident {
	for {
		switch e := x.(type) {
		case *ast.Ident:
			return e
		case *ast.StarExpr:
			x = e.X
		case *ast.ParenExpr:
			x = e.X
		case *ast.IndexExpr:
			x = e.X
		case *ast.IndexListExpr:
			x = e.X
		default:
			return nil
		}
	}
}

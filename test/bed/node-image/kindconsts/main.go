// Command kindconsts prints constants of kind's node image build (package
// sigs.k8s.io/kind/pkg/build/nodeimage, read from the module cache) so the test bed's node
// image carries exactly the manifests and image names the kind release would write:
//
//	kindconsts DIR NAME   prints the string constant NAME, e.g. defaultCNIManifest
//
// Only the const_*.go files are type-checked; they import nothing.
package main

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: kindconsts DIR NAME")
		os.Exit(2)
	}
	fset := token.NewFileSet()
	paths, _ := filepath.Glob(filepath.Join(os.Args[1], "const*.go"))
	var files []*ast.File
	for _, p := range paths {
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		files = append(files, f)
	}
	pkg, err := (&types.Config{}).Check("nodeimage", fset, files, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	c, ok := pkg.Scope().Lookup(os.Args[2]).(*types.Const)
	if !ok || c.Val().Kind() != constant.String {
		fmt.Fprintf(os.Stderr, "no string constant %s in %s\n", os.Args[2], os.Args[1])
		os.Exit(1)
	}
	fmt.Print(constant.StringVal(c.Val()))
}

// Package azjmes is the az shim's full --query evaluator: JMESPath, by go-jmespath, as
// az itself evaluates --query. It is entratool-engine's: go-jmespath's package
// initialisation would cost every az-entra call, so the front answers bare identifiers
// itself (azcli.CompileIdentifier) and hands other queries to the engine's az entry
// point (launch.EntryAz), which runs azcli.Run with Env.Query = Compile.
package azjmes

import (
	"github.com/jmespath/go-jmespath"

	"github.com/entratool/entratool/helpers/azcli"
)

// Compile compiles a JMESPath expression into an azcli.Query; an expression that is not
// JMESPath fails with go-jmespath's syntax error (never azcli.ErrNeedsEngine).
func Compile(expr string) (azcli.Query, error) {
	jp, err := jmespath.Compile(expr)
	if err != nil {
		return nil, err
	}
	return jp.Search, nil
}

var _ azcli.Compiler = Compile

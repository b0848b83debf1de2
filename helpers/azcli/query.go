package azcli

import "errors"

// Query is a compiled --query: it searches a command's result as JSON data (what
// encoding/json decodes into an any: maps, slices, float64, string, bool, nil) and
// returns what az would print.
type Query func(data any) (any, error)

// Compiler compiles a --query expression (JMESPath). An expression that is not JMESPath
// fails with an error other than ErrNeedsEngine; ErrNeedsEngine says only that this
// compiler cannot evaluate the expression, valid or not.
//
// The seam keeps go-jmespath out of the lean fronts: its package initialisation (the
// lexer's and the interpreter's map literals) cost az-entra ~2.3% of every call, query
// or not. az-entra compiles with CompileIdentifier, the built-in evaluator, and hands
// any other query to entratool-engine (launch.EntryAz), which compiles with azjmes.
type Compiler func(expr string) (Query, error)

// ErrNeedsEngine is a --query the built-in evaluator cannot answer: the full JMESPath
// evaluator (helpers/azcli/azjmes, in entratool-engine) must compile and run it.
var ErrNeedsEngine = errors.New("this --query needs the full JMESPath evaluator of entratool-engine")

// CompileIdentifier is the shim's built-in evaluator. It answers the queries the SPEC
// names and scripts use most: a bare JMESPath identifier ([A-Za-z_][A-Za-z0-9_]*, e.g.
// accessToken, expiresOn, expires_on, tenant, tokenType, id, name), which selects that
// field of an object, and gives null for a missing field or anything but an object,
// exactly as JMESPath does. Any other expression fails with ErrNeedsEngine.
func CompileIdentifier(expr string) (Query, error) {
	if !isIdentifier(expr) {
		return nil, ErrNeedsEngine
	}
	return func(data any) (any, error) {
		if m, ok := data.(map[string]any); ok {
			return m[expr], nil // a missing key is nil: null
		}
		return nil, nil
	}, nil
}

// isIdentifier reports whether s is a JMESPath unquoted-string: [A-Za-z_][A-Za-z0-9_]*.
func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// orBuiltin is c, or the built-in evaluator when c is nil.
func (c Compiler) orBuiltin() Compiler {
	if c == nil {
		return CompileIdentifier
	}
	return c
}

// compileQuery compiles a --query with compile: a query that is not JMESPath is az's
// usage error, word for word; ErrNeedsEngine is returned as it is.
func compileQuery(compile Compiler, query string) (Query, error) {
	q, err := compile.orBuiltin()(query)
	if err != nil {
		if errors.Is(err, ErrNeedsEngine) {
			return nil, err
		}
		return nil, usagef("argument --query: invalid jmespath_type value: '%s'", query)
	}
	return q, nil
}

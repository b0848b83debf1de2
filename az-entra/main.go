// Command az-entra is entratool's az shim: linked as `az` (and `azd`) by
// `entratool az-shim install`, it answers the Azure CLI's token commands for an
// entratool profile, so the Azure SDKs, Terraform and scripts get Entra ID tokens
// without `az login`. Other commands go to the real az, if one is on PATH.
//
// A lean front (docs/architecture.md): az's and azd's command lines are helpers/azcli,
// the token comes from launch.OpenLocal's cache lookup, else launch.Token. A --query
// other than a bare identifier sends the whole command to the engine's az entry point
// (launch.EntryAz), which evaluates it with go-jmespath: this binary does not link it.
package main

import (
	"context"
	"os"

	"github.com/entratool/entratool/core/launch"
	"github.com/entratool/entratool/core/localtime"
	"github.com/entratool/entratool/helpers/azcli"
)

const program = "az-entra"

func main() {
	launch.GrowStack()
	// launch.Getenv, not os.Getenv, whose first call copies every variable into a map;
	// and the local zone from localtime.System, which reads TZ through the same list:
	// time.Local's first use asks syscall for TZ and so makes that copy too.
	getenv, lookupEnv := launch.Environ()
	local := localtime.System(lookupEnv)
	mode, args := azcli.ModeFor(os.Args)
	env := azcli.Env{
		Args:   args,
		Getenv: getenv,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		Local:  local,
		Self:   azcli.Self,
		Exec:   azcli.ExecReal,
		// Query nil: the built-in evaluator (bare identifiers). Any other --query is
		// decided right after parsing, before a profile is read: the whole command
		// goes to the engine, whose go-jmespath this binary does not link.
		Engine: func() int {
			return launch.Delegate(program, launch.EntryAz, append([]string{mode}, args...), nil, os.Stdout, os.Stderr)
		},
	}
	src := &azcli.LocalSource{Program: program, Getenv: getenv, Stderr: os.Stderr, Debug: azcli.DebugWanted(getenv, args)}
	run := azcli.Run
	if mode == "azd" {
		run = azcli.RunAzd
	}
	os.Exit(run(context.Background(), env, src))
}

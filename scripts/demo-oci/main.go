// Command demo-oci is the image step of `make demo`: it pushes a small image to a
// registry and pulls it back with go-containerregistry's default keychain — the same
// path crane, ko and skaffold take — so docker-credential-entra answers both.
package main

import (
	"fmt"
	"os"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: demo-oci REGISTRY/REPO:TAG")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "demo-oci:", err)
		os.Exit(1)
	}
}

func run(ref string) error {
	tag, err := name.NewTag(ref)
	if err != nil {
		return err
	}
	img, err := random.Image(1024, 1)
	if err != nil {
		return err
	}
	kc := remote.WithAuthFromKeychain(authn.DefaultKeychain)
	if err := remote.Write(tag, img, kc); err != nil {
		return fmt.Errorf("push %s: %w", tag, err)
	}
	pushed, _ := img.Digest()
	fmt.Printf("pushed %s@%s\n", tag, pushed)
	got, err := remote.Image(tag, kc)
	if err != nil {
		return fmt.Errorf("pull %s: %w", tag, err)
	}
	pulled, err := got.Digest()
	if err != nil {
		return err
	}
	layers, err := got.Layers()
	if err != nil {
		return err
	}
	fmt.Printf("pulled %s@%s (%d layer, digests match: %v)\n", tag, pulled, len(layers), pulled == pushed)
	if pulled != pushed {
		return fmt.Errorf("pulled digest %s differs from pushed %s", pulled, pushed)
	}
	return nil
}

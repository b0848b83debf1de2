// Command minimal is the yardstick of `make bench`: the least a Go helper can do —
// read a small file and print it. Helpers answering from cache are measured against it.
package main

import (
	"os"
)

func main() {
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		os.Exit(1)
	}
	os.Stdout.Write(data)
}

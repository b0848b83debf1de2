// Command bye is what testbin's tests build beside hello.
package main

import "fmt"

func main() { fmt.Println("bye") }

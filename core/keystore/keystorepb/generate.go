// Package keystorepb is the generated gRPC code of the key-store plugin protocol
// (keystore.proto). Plugin authors use package keystore, not this one.
package keystorepb

//go:generate protoc --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative keystore.proto

// Package keystore is entratool's key-store plugin system: private keys that never leave
// their store (an HSM through PKCS#11, the Windows certificate store, …) sign client
// assertions through a plugin process started with hashicorp/go-plugin over gRPC.
//
// A plugin is an executable named entratool-keystore-<name> that calls Serve with a
// Store; the host side (Host) finds it in $ENTRATOOL_HOME/plugins or on PATH, starts it
// only when a token must be signed, builds the PS256 client assertion itself and hands
// MSAL a callback credential. The wire protocol is keystorepb/keystore.proto.
package keystore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/entratool/entratool/core/keystore/keystorepb"
)

// ProtocolVersion is the plugin protocol this package speaks. The handshake refuses a
// plugin that speaks another one before any call is made.
const ProtocolVersion = 1

// handshake is the go-plugin handshake. The cookie only tells a person who runs a
// plugin by hand what it is; it is not a security boundary.
func handshake() plugin.HandshakeConfig {
	return plugin.HandshakeConfig{
		ProtocolVersion:  ProtocolVersion,
		MagicCookieKey:   "ENTRATOOL_KEYSTORE_PLUGIN",
		MagicCookieValue: "b7f3e0c2-entratool-keystore",
	}
}

// pluginName is the one plugin each executable serves.
const pluginName = "keystore"

// Algorithm is a JOSE signature algorithm a plugin is asked to sign with.
type Algorithm string

// Algorithms of the protocol. Entra ID's client assertions are PS256.
const (
	PS256 Algorithm = "PS256" // RSASSA-PSS, SHA-256, MGF1-SHA-256, salt length 32
	RS256 Algorithm = "RS256" // RSASSA-PKCS1-v1_5, SHA-256
)

// Errors a plugin returns (wrapped, with its own sentence) and the host reports: the
// gRPC status code carries the kind across the process boundary.
var (
	ErrBadPIN      = errors.New("PIN refused")         // wrong PIN, or none where one is needed
	ErrPINLocked   = errors.New("PIN locked")          // too many wrong PINs
	ErrNotFound    = errors.New("not found")           // no such certificate, key or token
	ErrBadOptions  = errors.New("invalid options")     // certificateStoreOptions wrong or missing
	ErrUnsupported = errors.New("unsupported")         // key type or algorithm the store cannot do
	ErrUnavailable = errors.New("store not available") // module missing, device absent
)

var codeOf = []struct {
	err  error
	code codes.Code
}{
	{ErrBadPIN, codes.Unauthenticated},
	{ErrPINLocked, codes.PermissionDenied},
	{ErrNotFound, codes.NotFound},
	{ErrBadOptions, codes.InvalidArgument},
	{ErrUnsupported, codes.Unimplemented},
	{ErrUnavailable, codes.FailedPrecondition},
}

// toStatus turns a Store's error into a gRPC status whose message is the error text.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	for _, c := range codeOf {
		if errors.Is(err, c.err) {
			// "…: PIN refused" reads as a stutter after the plugin's own sentence; the kind
			// travels in the code.
			return status.Error(c.code, strings.TrimSuffix(err.Error(), ": "+c.err.Error()))
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	return status.Error(codes.Unknown, err.Error())
}

// remoteError is a plugin's error as the host sees it: the plugin's sentence, and the
// kind (one of the Err values) for errors.Is.
type remoteError struct {
	msg  string
	kind error
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.kind }

// fromStatus maps a gRPC status from a plugin back to an error of a known kind. Transport
// failures (Unavailable, Canceled, DeadlineExceeded) are left for the caller, which knows
// whether the process died or the deadline passed.
func fromStatus(err error) (error, bool) {
	st, ok := status.FromError(err)
	if !ok {
		return err, false
	}
	for _, c := range codeOf {
		if st.Code() == c.code {
			return &remoteError{msg: st.Message(), kind: c.err}, true
		}
	}
	if st.Code() == codes.Unknown {
		return &remoteError{msg: st.Message()}, true
	}
	return err, false
}

// Request is what every call carries: which store and how to open it.
type Request struct {
	Location string            // profile's certificateStoreLocation
	Options  map[string]string // profile's certificateStoreOptions
	PIN      string            // profile's certificate password (secret store); "" if none
}

// Item is one certificate a store holds.
type Item struct {
	Certificate []byte // DER
	HasKey      bool   // the store holds its private key
	KeyRef      string // where the key is, in the store's terms (e.g. "id=01 label=app")
}

// Store is what a plugin implements. Thumbprints are SHA-1 (40) or SHA-256 (64) hex
// digits in any case, as the profile's certificateThumbprint. Errors should be one
// sentence a user can act on, wrapping one of the Err values where one fits.
type Store interface {
	List(ctx context.Context, r Request) ([]Item, error)
	// Certificates returns the DER chain of the certificate, leaf first.
	Certificates(ctx context.Context, r Request, thumbprint string) ([][]byte, error)
	// Sign signs a SHA-256 digest with the certificate's private key.
	Sign(ctx context.Context, r Request, thumbprint string, digest []byte, alg Algorithm) ([]byte, error)
}

// grpcPlugin is the go-plugin glue: the server side wraps a Store, the client side
// returns the generated client.
type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	impl Store
}

func (p *grpcPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterKeyStoreServer(s, &server{impl: p.impl})
	return nil
}

func (p *grpcPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return pb.NewKeyStoreClient(c), nil
}

// server adapts a Store to the generated service.
type server struct {
	pb.UnimplementedKeyStoreServer
	impl Store
}

func request(s *pb.Store) Request {
	return Request{Location: s.GetLocation(), Options: s.GetOptions(), PIN: s.GetPin()}
}

func (s *server) List(ctx context.Context, in *pb.ListRequest) (*pb.ListResponse, error) {
	items, err := s.impl.List(ctx, request(in.GetStore()))
	if err != nil {
		return nil, toStatus(err)
	}
	out := &pb.ListResponse{}
	for _, it := range items {
		out.Entries = append(out.Entries, &pb.Entry{Certificate: it.Certificate, HasKey: it.HasKey, KeyRef: it.KeyRef})
	}
	return out, nil
}

func (s *server) Certificates(ctx context.Context, in *pb.CertificatesRequest) (*pb.CertificatesResponse, error) {
	chain, err := s.impl.Certificates(ctx, request(in.GetStore()), in.GetThumbprint())
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.CertificatesResponse{Chain: chain}, nil
}

func (s *server) Sign(ctx context.Context, in *pb.SignRequest) (*pb.SignResponse, error) {
	var alg Algorithm
	switch in.GetAlgorithm() {
	case pb.Algorithm_PS256:
		alg = PS256
	case pb.Algorithm_RS256:
		alg = RS256
	default:
		return nil, status.Errorf(codes.InvalidArgument, "signature algorithm %v is not supported", in.GetAlgorithm())
	}
	if len(in.GetDigest()) != 32 {
		return nil, status.Errorf(codes.InvalidArgument, "digest is %d bytes; a SHA-256 digest is 32", len(in.GetDigest()))
	}
	sig, err := s.impl.Sign(ctx, request(in.GetStore()), in.GetThumbprint(), in.GetDigest(), alg)
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.SignResponse{Signature: sig}, nil
}

func wireAlgorithm(a Algorithm) (pb.Algorithm, error) {
	switch a {
	case PS256:
		return pb.Algorithm_PS256, nil
	case RS256:
		return pb.Algorithm_RS256, nil
	}
	return 0, fmt.Errorf("signature algorithm %q: %w", a, ErrUnsupported)
}

// failed is an error of a known kind whose text is the sentence alone: the kind is for
// errors.Is, and saying it again at the end of the line would only stutter.
func failed(kind error, format string, args ...any) error {
	return &remoteError{msg: fmt.Sprintf(format, args...), kind: kind}
}

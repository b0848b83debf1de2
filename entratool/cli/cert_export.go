package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/entratool/entratool/core/cert"
	"github.com/entratool/entratool/core/fsutil"
)

// certExportOptions are the inputs of cert export-public.
type certExportOptions struct {
	certReadOptions
	Output string // -o: file to write; "" or "-" is stdout
	DER    bool   // --der instead of PEM
}

func newCertExportPublicCmd(a *App, runF func(context.Context, *certExportOptions) error) *cobra.Command {
	opts := &certExportOptions{}
	cmd := &cobra.Command{
		Use:   "export-public [PATH | -p NAME] [-o FILE] [--der]",
		Short: "Write the public certificate (.cer) to upload to the app registration",
		Long: "Write the certificate alone, without its key — the file the Azure portal's Upload certificate takes.\n" +
			"PEM by default, DER with --der; to FILE, or stdout when -o is absent or -.",
		Example: "  entratool cert export-public -p production-service -o certificate.cer\n" +
			"  entratool cert export-public certificate.pfx --password-stdin -o certificate.cer < pw.txt",
		Args: maxArgs(1),
		RunE: runE(a, opts, &opts.configEnv, opts.fill(a), runF, runCertExportPublic),
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "file to write (default stdout)")
	cmd.Flags().BoolVar(&opts.DER, "der", false, "write DER instead of PEM")
	cmd.Flags().BoolVar(&opts.PasswordStdin, "password-stdin", false, "read the certificate password from stdin")
	return cmd
}

// runCertExportPublic writes the certificate without its key, to a file or stdout.
func runCertExportPublic(ctx context.Context, opts *certExportOptions) error {
	_, l, err := opts.open(ctx)
	if err != nil {
		return err
	}
	data := cert.EncodeCER(l.leaf, opts.DER)
	if out := opts.Output; out != "" && out != "-" {
		if err := fsutil.WriteFileAtomic(out, data, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(opts.IO.Out, "✓ Public certificate written to %s (thumbprint %s)\n", out, cert.ThumbprintSHA1(l.leaf))
		return nil
	}
	_, err = opts.IO.Out.Write(data)
	return err
}

package cert

import (
	"bytes"
	"context"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entratool/entratool/internal/testbin"
)

// TestCertInfoRefusesCraftedPFX runs the real binaries on finding 3's file: `entratool
// cert info` exits non-zero at once with a one-line error, where it used to derive
// 2^31-1 PBKDF2 iterations (minutes).
func TestCertInfoRefusesCraftedPFX(t *testing.T) {
	if testing.Short() {
		t.Skip("builds entratool and entratool-engine")
	}
	bin := testbin.Build(t, "./entratool", "./entratool-engine")
	home := t.TempDir()
	pfx := writeFile(t, filepath.Join(home, "crafted.pfx"), tinyPBMAC1(t, big.NewInt(1<<31-1), true))

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "entratool"), "cert", "info", pfx)
	cmd.Env = append(os.Environ(), "ENTRATOOL_HOME="+filepath.Join(home, "entratool"), "HOME="+home)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("cert info: %v (want a non-zero exit)\nstdout: %s\nstderr: %s", err, &stdout, &stderr)
	}
	want := "entratool: " + pfx + ": key derivation asks for 2147483647 iterations, more than the 2000000 accepted; re-export the file with the defaults\n"
	if stderr.String() != want {
		t.Errorf("stderr\n got: %q\nwant: %q", stderr.String(), want)
	}
	if took > 10*time.Second { // process start-up included; the refusal itself is microseconds
		t.Errorf("took %v", took)
	}
	if strings.TrimSpace(stdout.String()) != "" {
		t.Errorf("stdout: %q", stdout.String())
	}
	t.Logf("exit %d after %v", exit.ExitCode(), took)
}

package testkit

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// LookGNUDate finds GNU date(1), which reads instants from stdin (-f -); the test is
// skipped where there is none to compare with.
func LookGNUDate(t testing.TB) string {
	t.Helper()
	date, err := exec.LookPath("date")
	if err != nil {
		t.Skip("no date(1) to compare with")
	}
	if v, err := exec.Command(date, "--version").Output(); err != nil || !strings.Contains(string(v), "GNU coreutils") {
		t.Skip("date(1) is not GNU date")
	}
	return date
}

// GNUDate formats each instant (Unix seconds) with the GNU date(1) at path date (see
// LookGNUDate) under TZ=tz — the C library's localtime, which C and Python programs
// (the Azure CLI) print — running date once for all of them. format is date's, such as
// "+%Y-%m-%d %H:%M:%S".
func GNUDate(t testing.TB, date, tz, format string, instants []int64) []string {
	t.Helper()
	var in strings.Builder
	for _, e := range instants {
		in.WriteString("@" + strconv.FormatInt(e, 10) + "\n")
	}
	cmd := exec.Command(date, "-f", "-", format)
	// No TZDIR: glibc looks for TZ in its own zoneinfo directory, as the programs
	// compared with it do.
	cmd.Env = []string{"TZ=" + tz, "LC_ALL=C"}
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("TZ=%q date: %v", tz, err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(instants) {
		t.Fatalf("TZ=%q date: %d lines for %d instants", tz, len(lines), len(instants))
	}
	return lines
}

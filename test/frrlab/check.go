package frrlab

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
)

// daemonUser and vtyGroup are the account FRR's packages create; the
// daemons drop privileges to daemonUser, and FRR refuses to start unless
// that user is also in vtyGroup.
const (
	daemonUser = "frr"
	vtyGroup   = "frrvty"
)

// frrDirs are where distributions install the FRR daemons: Debian and
// Ubuntu use /usr/lib/frr, Red Hat and Alpine /usr/libexec/frr.
var frrDirs = []string{"/usr/lib/frr", "/usr/libexec/frr"}

// daemons are the FRR daemons every lab router runs, in start order.
var daemons = []string{"zebra", "staticd", "ospfd"}

// PrereqError reports what the machine lacks to run a lab.
type PrereqError struct {
	Missing []string
}

func (e *PrereqError) Error() string {
	return "frrlab: prerequisites missing: " + strings.Join(e.Missing, "; ")
}

// Check reports whether this process can run a lab: it must be root, and
// the FRR daemons, vtysh, ip, the frr user and its membership of the frrvty
// group must exist. The error is a *PrereqError listing everything missing.
func Check() error {
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "must run as root (network namespaces)")
	}
	if _, err := frrDir(); err != nil {
		missing = append(missing, err.Error())
	}
	for _, tool := range []string{"ip", "vtysh"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, fmt.Sprintf("%s not found in PATH", tool))
		}
	}
	if err := checkDaemonUser(); err != nil {
		missing = append(missing, err.Error())
	}
	if len(missing) > 0 {
		return &PrereqError{Missing: missing}
	}
	return nil
}

// frrDir returns the directory holding zebra, staticd and ospfd.
func frrDir() (string, error) {
	for _, dir := range frrDirs {
		ok := true
		for _, d := range daemons {
			if fi, err := os.Stat(filepath.Join(dir, d)); err != nil || fi.IsDir() {
				ok = false
				break
			}
		}
		if ok {
			return dir, nil
		}
	}
	return "", fmt.Errorf("FRR daemons %s not found in %s (install frr)",
		strings.Join(daemons, ", "), strings.Join(frrDirs, " or "))
}

// checkDaemonUser verifies the account the daemons switch to.
func checkDaemonUser() error {
	u, err := user.Lookup(daemonUser)
	if err != nil {
		return fmt.Errorf("user %q not found (created by the frr package)", daemonUser)
	}
	g, err := user.LookupGroup(vtyGroup)
	if err != nil {
		return fmt.Errorf("group %q not found (created by the frr package)", vtyGroup)
	}
	gids, err := u.GroupIds()
	if err != nil {
		return fmt.Errorf("groups of user %q: %w", daemonUser, err)
	}
	if !slices.Contains(gids, g.Gid) {
		return fmt.Errorf("user %q is not in group %q (run: usermod -a -G %s %s)",
			daemonUser, vtyGroup, vtyGroup, daemonUser)
	}
	return nil
}

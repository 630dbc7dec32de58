package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/ospf-operator/ospf-operator/internal/cli"
)

// newDataDirCommand is the DaemonSet's init container: the kubelet creates
// a hostPath directory owned by root, where the relay, user 65532, could
// not write its archive. Run as root with CAP_CHOWN alone, it gives the
// directory itself (not what is in it) to the relay's user.
func newDataDirCommand() *cobra.Command {
	var owner string
	cmd := &cobra.Command{
		Use:   "data-dir DIR",
		Short: "Give the relay's data directory (a hostPath) to its user: the DaemonSet's init container",
		Long: "data-dir makes DIR, the relay's archive on the node (a hostPath volume, which the kubelet\n" +
			"creates owned by root), owned by --owner, so that the relay, which runs as that user, can\n" +
			"write in it. It changes DIR alone, never what is in it, and nothing when DIR is owned\n" +
			"so already. It needs root, or CAP_CHOWN, and nothing else.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			uid, gid, err := parseOwner(owner)
			if err != nil {
				return cli.Usage(err)
			}
			return ownDir(cmd, args[0], uid, gid)
		},
	}
	cmd.Flags().StringVar(&owner, "owner", "65532:65532", "UID:GID to own DIR (the relay's user)")
	return cmd
}

// parseOwner parses UID:GID, both numbers.
func parseOwner(s string) (uid, gid int, err error) {
	u, g, ok := strings.Cut(s, ":")
	if ok {
		uid, err = strconv.Atoi(u)
	}
	if ok && err == nil {
		gid, err = strconv.Atoi(g)
	}
	if !ok || err != nil || uid < 0 || gid < 0 {
		return 0, 0, fmt.Errorf("--owner %q: want UID:GID, two numbers", s)
	}
	return uid, gid, nil
}

func ownDir(cmd *cobra.Command, dir string, uid, gid int) error {
	// Lstat: a link planted in the directory's place is not followed.
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return &fs.PathError{Op: "data-dir", Path: dir, Err: errors.New("not a directory")}
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if ok && int(st.Uid) == uid && int(st.Gid) == gid {
		_, err := fmt.Fprintf(cmd.OutOrStdout(), "%s is owned by %d:%d already\n", dir, uid, gid)
		return err
	}
	if err := os.Lchown(dir, uid, gid); err != nil {
		return err
	}
	_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s now owned by %d:%d\n", dir, uid, gid)
	return err
}

//go:build !linux

package redistest

import "syscall"

// sysProcAttr has nothing to set outside Linux.
func sysProcAttr() *syscall.SysProcAttr {
	return nil
}

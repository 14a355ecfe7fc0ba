//go:build !linux

package nodetest

import "syscall"

// sysProcAttr has nothing to set outside Linux.
func sysProcAttr() *syscall.SysProcAttr {
	return nil
}

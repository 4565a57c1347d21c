package main

import "syscall"

// childAttr puts sessiond in its own process group, so that Ctrl-C reaches
// only this command, which then stops it in order, and has the kernel
// send it SIGTERM should this command die first.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

//go:build !linux

package main

import "syscall"

// childAttr is nil off Linux: sessiond shares this command's process group.
func childAttr() *syscall.SysProcAttr { return nil }

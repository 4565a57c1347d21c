package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// machine describes where the run happened.
type machine struct {
	Date     string `json:"date"`
	CPUs     int    `json:"cpus"`
	Model    string `json:"cpu_model"`
	MemoryGB string `json:"memory_gb"`
	Go       string `json:"go"`
	Kernel   string `json:"kernel"`
}

func describeMachine() machine {
	m := machine{Date: time.Now().UTC().Format(time.RFC3339), CPUs: runtime.NumCPU(), Go: runtime.Version()}
	m.Model = procField("/proc/cpuinfo", "model name", ":")
	if kb, err := strconv.ParseFloat(strings.Fields(procField("/proc/meminfo", "MemTotal", ":") + " 0")[0], 64); err == nil {
		m.MemoryGB = fmt.Sprintf("%.1f", kb/1024/1024)
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

// procField returns the value of the first "key<sep> value" line of path.
func procField(path, key, sep string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, sep)
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func (m machine) String() string {
	return fmt.Sprintf("%s; %d CPUs (%s), %s GB RAM, %s, Linux %s", m.Date, m.CPUs, m.Model, m.MemoryGB, m.Go, m.Kernel)
}

// sourceVersion describes the working tree sessiond is built from: the
// commit and how many files differ from it. Empty outside a git checkout.
func sourceVersion(ctx context.Context) string {
	head, err := exec.CommandContext(ctx, "git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return ""
	}
	v := "commit " + strings.TrimSpace(string(head))
	if st, err := exec.CommandContext(ctx, "git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil {
		if n := len(strings.Fields(strings.TrimSpace(string(st)))) / 2; n > 0 {
			v += fmt.Sprintf(" with %d modified tracked files", n)
		}
	}
	return v
}

// builtVersion describes the source this binary was built from (the
// pipeline's packages in --profile mode), from its embedded VCS stamp.
func builtVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "this binary's packages"
	}
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		return "this binary's packages (no VCS stamp)"
	}
	v := "this binary's packages, commit " + rev[:min(7, len(rev))]
	if modified == "true" {
		v += " with local changes"
	}
	return v
}

package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHZ is the kernel's clock tick for /proc CPU times (USER_HZ, 100 on
// every Linux this runs on).
const userHZ = 100

// cpuUse is where the CPU went during a phase, in cores (CPU seconds per
// wall second): all of the machine, the sessiond process, this process, the
// broker (a local process running kafka.Kafka, if found) and everything
// else. Zero when /proc is not readable.
type cpuUse struct {
	Machine  float64 `json:"machine_cores"`
	Sessiond float64 `json:"sessiond_cores"`
	Load     float64 `json:"load_cores"`
	Broker   float64 `json:"broker_cores"`
	IRQ      float64 `json:"irq_softirq_cores"` // interrupts: loopback networking, mostly
	Other    float64 `json:"other_cores"`       // other processes
}

// cpuMeter measures CPU from its start to stop.
type cpuMeter struct {
	pid, broker                    int // sessiond's process (0: none, -1: this one); the broker's (0: none)
	begin                          time.Time
	machine, child, self0, broker0 float64
	irq                            float64
}

// startCPU starts measuring; pid is sessiond's process id (0 when there is
// none, -1 when sessiond runs in this process).
func startCPU(pid int) *cpuMeter {
	m := &cpuMeter{pid: pid, broker: brokerPID(), begin: time.Now(), self0: procCPU(os.Getpid())}
	m.machine, m.irq = machineCPU()
	if pid > 0 {
		m.child = procCPU(pid)
	}
	if m.broker > 0 {
		m.broker0 = procCPU(m.broker)
	}
	return m
}

func (m *cpuMeter) stop() cpuUse {
	wall := time.Since(m.begin).Seconds()
	busy, irq := machineCPU()
	u := cpuUse{Machine: (busy - m.machine) / wall, IRQ: (irq - m.irq) / wall}
	self := (procCPU(os.Getpid()) - m.self0) / wall
	switch {
	case m.pid > 0:
		u.Sessiond, u.Load = (procCPU(m.pid)-m.child)/wall, self
	case m.pid < 0:
		u.Sessiond = self
	default:
		u.Load = self
	}
	if m.broker > 0 {
		u.Broker = (procCPU(m.broker) - m.broker0) / wall
	}
	u.Other = max(0, u.Machine-u.Sessiond-u.Load-u.Broker-u.IRQ)
	return u
}

// brokerPID returns the process id of the one local process whose command
// line runs kafka.Kafka (the broker scripts/kafka.sh starts), or 0.
func brokerPID() int {
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	found := 0
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + d.Name() + "/cmdline")
		if err != nil || !strings.Contains(string(b), "\x00kafka.Kafka\x00") {
			continue
		}
		if found != 0 {
			return 0 // more than one broker: cannot tell
		}
		found = pid
	}
	return found
}

// machineCPU returns the busy CPU seconds of the machine since boot, and
// the part of them spent in interrupts (irq, softirq).
func machineCPU() (busy, irq float64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0
	}
	// user nice system idle iowait irq softirq steal
	for i, v := range f[1:9] {
		n, _ := strconv.ParseFloat(v, 64)
		switch i {
		case 3, 4:
		case 5, 6:
			irq += n
			busy += n
		default:
			busy += n
		}
	}
	return busy / userHZ, irq / userHZ
}

// procCPU returns the user and system CPU seconds of process pid.
func procCPU(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / userHZ
}

/*
Copyright 2026 The hookrun Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package benchutil

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// ProcStat is what /proc says about a process's memory and CPU.
type ProcStat struct {
	// RSS and HWM (peak RSS) in bytes, from /proc/<pid>/status.
	RSS, HWM int64
	// CPU is user+system time, from /proc/<pid>/stat.
	CPU time.Duration
}

// clockTicks is USER_HZ: 100 on every Linux architecture Go supports.
const clockTicks = 100

// ReadProc reads a process's RSS, peak RSS and CPU time.
func ReadProc(pid int) (ProcStat, error) {
	var st ProcStat
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return st, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		fields := strings.Fields(v)
		if len(fields) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(fields[0], 10, 64)
		switch k {
		case "VmRSS":
			st.RSS = n * 1024
		case "VmHWM":
			st.HWM = n * 1024
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return st, err
	}
	// The command name (field 2) may hold spaces: count fields after ')'.
	s := string(stat)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return st, fmt.Errorf("short /proc/%d/stat", pid)
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	st.CPU = time.Duration(utime+stime) * time.Second / clockTicks
	return st, nil
}

// MiB converts bytes to mebibytes.
func MiB(b int64) float64 { return float64(b) / (1 << 20) }

// Children returns the direct child processes of this process by command
// name (envtest's etcd and kube-apiserver).
func Children() map[string]int {
	out := map[string]int{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	self := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		s := string(stat)
		open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || closing < open {
			continue
		}
		fields := strings.Fields(s[closing+1:])
		if len(fields) < 2 {
			continue
		}
		if ppid, _ := strconv.Atoi(fields[1]); ppid == self {
			out[s[open+1:closing]] = pid
		}
	}
	return out
}

// CPUMeter measures the CPU time that processes spend between Start and
// Stop: this process and its children, by name.
type CPUMeter struct {
	pids  map[string]int
	start map[string]time.Duration
}

// NewCPUMeter meters this process ("self") and its children.
func NewCPUMeter() *CPUMeter {
	pids := Children()
	pids["self"] = os.Getpid()
	return &CPUMeter{pids: pids}
}

func (m *CPUMeter) read() map[string]time.Duration {
	out := map[string]time.Duration{}
	for name, pid := range m.pids {
		if st, err := ReadProc(pid); err == nil {
			out[name] = st.CPU
		}
	}
	return out
}

// Start records the starting CPU times.
func (m *CPUMeter) Start() { m.start = m.read() }

// Stop returns the CPU seconds spent since Start, by process name.
func (m *CPUMeter) Stop() map[string]float64 {
	out := map[string]float64{}
	for name, d := range m.read() {
		out[name] = (d - m.start[name]).Seconds()
	}
	return out
}

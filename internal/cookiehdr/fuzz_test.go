package cookiehdr

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzGet: the Cookie header scanner never panics or allocates, returns a
// value that really follows "name=" in the header, never one holding a
// ';' (it cannot spill into the next cookie), and matches the name
// exactly (a longer or differently cased name is another cookie).
func FuzzGet(f *testing.F) {
	const name = "__Host-session"
	f.Add("__Host-session=abc", name)
	f.Add("a=b; __Host-session=\"abc\" ;c=d", name)
	f.Add("__Host-session2=x; x__Host-session=y; __host-session=z", name)
	f.Add("  \t__Host-session=  v  ; __Host-session=w", name)
	f.Add("__Host-session=", name)
	f.Add("__Host-session=\"", name)
	f.Add(";;;;=;", "")
	f.Add("=x", "")
	f.Fuzz(func(t *testing.T, line, name string) {
		h := http.Header{"Cookie": {line, "__Host-session=second"}}
		var v string
		var ok bool
		if n := testing.AllocsPerRun(1, func() { v, ok = Get(h, name) }); n != 0 {
			t.Fatalf("Get allocated %v times", n)
		}
		if !ok {
			if v != "" {
				t.Fatalf("not found but value %q", v)
			}
			if name == "__Host-session" {
				t.Fatal("the cookie in the second header line was missed")
			}
			return
		}
		if strings.Contains(v, ";") {
			t.Fatalf("value %q spans cookies", v)
		}
		joined := line + ";" + "__Host-session=second"
		if !strings.Contains(joined, name+"="+v) && !strings.Contains(joined, name+"=\""+v+"\"") {
			t.Fatalf("value %q for %q does not follow its name in %q", v, name, joined)
		}
		// The match is on the exact name: the byte before it is the start
		// of the line, a ';' or whitespace.
		for _, part := range strings.Split(joined, ";") {
			p := strings.TrimLeft(part, " \t\r\n")
			if strings.HasPrefix(p, name+"=") {
				return
			}
		}
		t.Fatalf("%q matched no cookie named exactly %q in %q", v, name, joined)
	})
}

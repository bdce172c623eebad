package cachehdr

import (
	"net/http"
	"slices"
	"testing"
)

func TestNoStoreDropsEveryCDNTargetedField(t *testing.T) {
	h := http.Header{}
	h.Set("Cache-Control", "public, max-age=60")
	h.Set("CDN-Cache-Control", "max-age=60")
	h.Set("Cloudflare-CDN-Cache-Control", "max-age=60")
	h.Set("Surrogate-Control", "max-age=60")
	h["cdn-cache-control"] = []string{"max-age=60"} // written to the map directly
	h.Set("X-Cache-Note", "kept")
	NoStore(h)
	want := http.Header{"Cache-Control": {"no-store"}, "Vary": {"Cookie"}, "X-Cache-Note": {"kept"}}
	if len(h) != len(want) {
		t.Fatalf("headers after NoStore: %v, want %v", h, want)
	}
	for k, v := range want {
		if !slices.Equal(h[k], v) {
			t.Errorf("%s: %q, want %q", k, h[k], v)
		}
	}
}

func TestVaryCookieIsAddedOnce(t *testing.T) {
	for _, tc := range []struct {
		vary []string
		want []string
	}{
		{nil, []string{"Cookie"}},
		{[]string{"Accept-Encoding"}, []string{"Accept-Encoding", "Cookie"}},
		{[]string{"Accept-Encoding, cookie"}, []string{"Accept-Encoding, cookie"}},
		{[]string{"*"}, []string{"*"}},
		{[]string{"X-Cookie-Consent"}, []string{"X-Cookie-Consent", "Cookie"}},
	} {
		h := http.Header{}
		if tc.vary != nil {
			h["Vary"] = slices.Clone(tc.vary)
		}
		VaryCookie(h)
		VaryCookie(h)
		if !slices.Equal(h["Vary"], tc.want) {
			t.Errorf("Vary %q: got %q, want %q", tc.vary, h["Vary"], tc.want)
		}
	}
}

func TestSetsCookieMatchesTheNameExactly(t *testing.T) {
	h := http.Header{"Set-Cookie": {"other=1; Path=/", "__Host-session-x=1; Path=/"}}
	if SetsCookie(h, "__Host-session") {
		t.Error("another cookie's Set-Cookie counted as the session's")
	}
	h.Add("Set-Cookie", "__Host-session=; Max-Age=0")
	if !SetsCookie(h, "__Host-session") {
		t.Error("the session's Set-Cookie was not seen")
	}
}

// TestNoStoreHeadersAreIndependent: NoStore fills an empty header's
// Cache-Control and Vary from one allocation; a handler appending to one
// of them afterwards must not overwrite the other, or the response would
// lose Vary: Cookie and a shared cache could serve it to another user.
func TestNoStoreHeadersAreIndependent(t *testing.T) {
	h := http.Header{}
	NoStore(h)
	h.Add("Cache-Control", "no-transform")
	h.Add("Vary", "Accept-Encoding")
	if got := h.Values("Vary"); len(got) != 2 || got[0] != "Cookie" {
		t.Fatalf("Vary after appending to both: %q; want Cookie kept", got)
	}
	if got := h.Values("Cache-Control"); len(got) != 2 || got[0] != "no-store" || got[1] != "no-transform" {
		t.Fatalf("Cache-Control after appending to both: %q", got)
	}
}

package securesession_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
)

// TestInsecureCrossOriginBypassPatternsLetSSOCallbacksIn: an identity
// provider's page posts a SAML response (or an OIDC form_post) from its
// own origin; only the listed callback accepts it, every other path still
// refuses cross-origin posts.
func TestInsecureCrossOriginBypassPatternsLetSSOCallbacksIn(t *testing.T) {
	r := router(t, newCookieStore(t), securesession.Options{
		InsecureCrossOriginBypassPatterns: []string{"POST /saml/acs", "/oidc/callback"},
	})
	for _, p := range []string{"/saml/acs", "/oidc/callback"} {
		r.POST(p, func(c *gin.Context) {
			if err := securesession.Login(c, "alice"); err != nil {
				c.String(http.StatusInternalServerError, "%v", err)
				return
			}
			c.Redirect(http.StatusSeeOther, "/whoami")
		})
	}
	idp := map[string]string{"Origin": "https://idp.example", "Sec-Fetch-Site": "cross-site"}
	for _, p := range []string{"/saml/acs", "/oidc/callback"} {
		w := serve(r, "POST", p, idp)
		if w.Code != http.StatusSeeOther || len(w.Header().Values("Set-Cookie")) != 1 {
			t.Errorf("POST %s from the IdP: %d, Set-Cookie %q; want 303 and a new session", p, w.Code, w.Header().Values("Set-Cookie"))
		}
	}
	if w := serve(r, "POST", "/logout", idp); w.Code != http.StatusForbidden {
		t.Errorf("POST /logout from another origin: %d, want 403 (only the listed paths bypass)", w.Code)
	}
	if w := serve(r, "PUT", "/saml/acs", idp); w.Code != http.StatusForbidden && w.Code != http.StatusNotFound {
		t.Errorf("PUT /saml/acs from another origin: %d; the pattern names POST only", w.Code)
	}
}

func TestInsecureCrossOriginBypassPatternsAreValidated(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    securesession.Options
	}{
		{"invalid pattern", securesession.Options{InsecureCrossOriginBypassPatterns: []string{"POST"}}},
		{"duplicate pattern", securesession.Options{InsecureCrossOriginBypassPatterns: []string{"/acs", "/acs"}}},
		{"empty pattern", securesession.Options{InsecureCrossOriginBypassPatterns: []string{""}}},
		{"check turned off", securesession.Options{InsecureDisableCrossOriginProtection: true, InsecureCrossOriginBypassPatterns: []string{"/acs"}}},
	} {
		_, err := securesession.New(newCookieStore(t), tc.o)
		if err == nil || !strings.Contains(err.Error(), "Options.InsecureCrossOriginBypassPatterns") {
			t.Errorf("%s: err %v, want one naming the option", tc.name, err)
		}
	}
}

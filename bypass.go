package securesession

import (
	"fmt"
	"net/http"
)

// addBypassPatterns adds Options.InsecureCrossOriginBypassPatterns to p,
// turning the panic http.ServeMux raises for an invalid or conflicting
// pattern into an error that names the option.
func addBypassPatterns(p *http.CrossOriginProtection, patterns []string) error {
	for _, pat := range patterns {
		if err := addBypassPattern(p, pat); err != nil {
			return err
		}
	}
	return nil
}

func addBypassPattern(p *http.CrossOriginProtection, pat string) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("securesession: Options.InsecureCrossOriginBypassPatterns: pattern %q: %v", pat, v)
		}
	}()
	if pat == "" {
		return fmt.Errorf("securesession: Options.InsecureCrossOriginBypassPatterns: empty pattern")
	}
	p.AddInsecureBypassPattern(pat)
	return nil
}

package bench

// The same request kinds as cmd/benchrun, as ordinary Go benchmarks, for
// profiling one contender:
//
//	go test -run '^$' -bench 'Requests/cookie/read-fresh/ours-cookie$' -benchmem -cpuprofile cpu.out
//
// Each b.N operations are prepared (logins, the clock) before the timer
// starts. The tables in RESULTS.md come from cmd/benchrun, which also
// interleaves the contenders and measures bare Gin in the same rounds.

import "testing"

func BenchmarkRequests(b *testing.B) {
	for _, fam := range Families {
		b.Run(fam, func(b *testing.B) {
			for _, k := range Kinds {
				b.Run(k.Name, func(b *testing.B) {
					for _, c := range Contenders {
						if (c.Family != fam && c.Role != RoleBare) || !c.Serves(k.Name) {
							continue
						}
						b.Run(c.Name, func(b *testing.B) {
							a := newApp(b, c)
							bt, err := Prepare(a, k.Name, b.N)
							if err != nil {
								b.Fatal(err)
							}
							defer bt.Done()
							b.ReportAllocs()
							b.ResetTimer()
							bt.Run()
							b.StopTimer()
							if err := bt.Err(); err != nil {
								b.Fatal(err)
							}
						})
					}
				})
			}
		})
	}
}

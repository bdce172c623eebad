package memcache

import (
	"bufio"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// proxy is a TCP proxy on loopback in front of one memcached that records
// every command line a client sends (without the data blocks), so tests can
// count round trips and see the exact expiration sent. It can also break a
// connection on a chosen command (see Break).
type proxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	cmds   []string
	conns  []net.Conn
	faults map[string]fault
	pauses map[string]*pause
	wg     sync.WaitGroup
}

// pause holds one command back: reached is closed when the command
// arrives, and the command goes on to the server when release is closed.
type pause struct {
	reached, release chan struct{}
}

// Pause holds the next command with this verb before it reaches the server
// (later commands pass). It returns a channel closed when that command
// arrives, and a func that lets it go on; call it in any case.
func (p *proxy) Pause(verb string) (reached <-chan struct{}, release func()) {
	ps := &pause{reached: make(chan struct{}), release: make(chan struct{})}
	p.mu.Lock()
	if p.pauses == nil {
		p.pauses = map[string]*pause{}
	}
	p.pauses[verb] = ps
	p.mu.Unlock()
	var once sync.Once
	return ps.reached, func() {
		once.Do(func() {
			p.mu.Lock()
			if p.pauses[verb] == ps {
				delete(p.pauses, verb) // never reached
			}
			p.mu.Unlock()
			close(ps.release)
		})
	}
}

func (p *proxy) takePause(verb string) *pause {
	p.mu.Lock()
	defer p.mu.Unlock()
	ps := p.pauses[verb]
	delete(p.pauses, verb)
	return ps
}

// fault is how Break breaks a connection.
type fault int

const (
	// lostBefore closes the client's connection instead of sending the
	// command on: the server never sees it.
	lostBefore fault = iota + 1
	// lostAfter has the server apply the command and closes the client's
	// connection before the answer: the client cannot tell which happened.
	lostAfter
)

// Break makes the next command with this verb break its connection, as f
// says; later commands pass.
func (p *proxy) Break(verb string, f fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.faults == nil {
		p.faults = map[string]fault{}
	}
	p.faults[verb] = f
}

func (p *proxy) takeFault(verb string) fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.faults[verb]
	delete(p.faults, verb)
	return f
}

// applyAside sends one command to the server over a connection of its own
// and waits for the answer, so that the command is applied.
func (p *proxy) applyAside(cmd []byte) error {
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := s.Write(cmd); err != nil {
		return err
	}
	_, err = bufio.NewReader(s).ReadString('\n')
	return err
}

func newProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.Close)
	return p
}

func (p *proxy) Addr() string { return p.ln.Addr().String() }

func (p *proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		p.wg.Add(2)
		go func() {
			defer p.wg.Done()
			io.Copy(c, s)
			c.Close()
		}()
		go func() {
			defer p.wg.Done()
			p.forward(c, s)
			s.Close()
		}()
	}
}

// forward copies client commands to the server, recording each line and
// applying the faults set with Break.
func (p *proxy) forward(c, s net.Conn) {
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.TrimRight(line, "\r\n")
		p.mu.Lock()
		p.cmds = append(p.cmds, cmd)
		p.mu.Unlock()
		msg := []byte(line)
		f := strings.Fields(cmd)
		if len(f) >= 5 {
			switch f[0] {
			case "set", "add", "replace", "append", "prepend", "cas":
				n, err := strconv.Atoi(f[4])
				if err != nil {
					return
				}
				data := make([]byte, n+2)
				if _, err := io.ReadFull(r, data); err != nil {
					return
				}
				msg = append(msg, data...)
			}
		}
		if len(f) > 0 {
			if ps := p.takePause(f[0]); ps != nil {
				close(ps.reached)
				<-ps.release
			}
			switch p.takeFault(f[0]) {
			case lostBefore:
				c.Close()
				return
			case lostAfter:
				p.applyAside(msg)
				c.Close()
				return
			}
		}
		if _, err := s.Write(msg); err != nil {
			return
		}
	}
}

// Take returns the commands recorded since the last Take and forgets them.
func (p *proxy) Take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.cmds
	p.cmds = nil
	return c
}

func (p *proxy) Close() {
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// verbs returns the first word of each command.
func verbs(cmds []string) []string {
	v := make([]string, len(cmds))
	for i, c := range cmds {
		v[i], _, _ = strings.Cut(c, " ")
	}
	return v
}

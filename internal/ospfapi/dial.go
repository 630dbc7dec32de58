package ospfapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Dial connects to ospfd's OSPF API at addr, HOST[:PORT] (default
// localhost:2607; IPv4 only, host names are resolved), and sets up both
// channels: the synchronous one the client opens, and the asynchronous one
// ospfd opens back to the client's port plus one.
//
// The port pair is chosen so that clients started together on one host
// cannot share it: the client first listens on an ephemeral port Q (which
// only it can then hold), binds its synchronous socket to Q-1 before
// connecting, and tries another pair if Q-1 is taken. The asynchronous
// connection is accepted only from the address of the server; others are
// logged and closed.
//
// Errors are *OpError: Op "resolve", "listen", "dial" (ospfd unreachable:
// the net error says why) or "accept async" (wrapping ErrNoAsyncConnection).
func Dial(ctx context.Context, addr string, opts ...Option) (*Conn, error) {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	host, port, err := splitHostPort(addr)
	if err != nil {
		return nil, &OpError{Op: "dial", Addr: addr, Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	ip, err := resolve(ctx, host)
	if err != nil {
		return nil, &OpError{Op: "resolve", Addr: addr, Err: err}
	}
	server := netip.AddrPortFrom(ip, port)
	label := server.String()

	for range o.portAttempts {
		lc := net.ListenConfig{KeepAliveConfig: o.keepAlive}
		l, err := lc.Listen(ctx, "tcp4", "0.0.0.0:0")
		if err != nil {
			return nil, &OpError{Op: "listen", Addr: label, Err: err}
		}
		ln := l.(*net.TCPListener)
		q := uint16(ln.Addr().(*net.TCPAddr).Port)
		// ospfd connects back to the sync port plus one and refuses a pair
		// whose second port is its own.
		if q < 2 || q == port {
			ln.Close()
			continue
		}
		d := net.Dialer{
			LocalAddr:       &net.TCPAddr{IP: net.IPv4zero, Port: int(q - 1)},
			KeepAliveConfig: o.keepAlive,
		}
		c, err := d.DialContext(ctx, "tcp4", label)
		if err != nil {
			ln.Close()
			if errors.Is(err, syscall.EADDRINUSE) || errors.Is(err, syscall.EADDRNOTAVAIL) {
				o.log.Debug("Port pair taken, trying another", "sync_port", q-1, "async_port", q)
				continue
			}
			return nil, &OpError{Op: "dial", Addr: label, Err: err}
		}
		sc := c.(*net.TCPConn)
		peer := addrPort(sc.RemoteAddr()).Addr()
		ac, err := acceptAsync(ctx, ln, peer, o)
		ln.Close()
		if err != nil {
			sc.Close()
			return nil, &OpError{Op: "accept async", Addr: label, Err: err}
		}
		setKeepAlive(sc, o.keepAlive)
		setKeepAlive(ac, o.keepAlive)
		o.log.Debug("Connected to ospfd", "server", label, "sync_port", q-1, "async_port", q)
		return newConn(label, server, sc, ac, o), nil
	}
	return nil, &OpError{Op: "dial", Addr: label, Err: fmt.Errorf("no free local port pair after %d attempts", o.portAttempts)}
}

// acceptAsync waits for ospfd's connection from want, refusing others.
func acceptAsync(ctx context.Context, ln *net.TCPListener, want netip.Addr, o options) (*net.TCPConn, error) {
	stop := context.AfterFunc(ctx, func() { _ = ln.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	port := ln.Addr().(*net.TCPAddr).Port
	for {
		c, err := ln.AcceptTCP()
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%w to port %d: %w", ErrNoAsyncConnection, port, ctx.Err())
			}
			return nil, err
		}
		from := addrPort(c.RemoteAddr())
		if from.Addr() != want {
			o.log.Warn("Refused asynchronous connection from an address other than ospfd's",
				"from", from.String(), "want", want.String(), "port", port)
			c.Close()
			continue
		}
		return c, nil
	}
}

func setKeepAlive(c *net.TCPConn, cfg net.KeepAliveConfig) {
	// Best effort: the dialer and listener already asked for it.
	_ = c.SetKeepAliveConfig(cfg)
}

// addrPort returns a TCP address as an unmapped netip.AddrPort.
func addrPort(a net.Addr) netip.AddrPort {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return netip.AddrPort{}
	}
	ap := ta.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// splitHostPort parses HOST[:PORT]; an empty host is localhost.
func splitHostPort(addr string) (string, uint16, error) {
	host, port := addr, uint16(DefaultPort)
	if strings.Count(addr, ":") == 1 || strings.HasPrefix(addr, "[") {
		h, p, err := net.SplitHostPort(addr)
		if err != nil {
			return "", 0, err
		}
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			return "", 0, fmt.Errorf("bad port %q", p)
		}
		host, port = h, uint16(n)
	}
	if host == "" {
		host = "localhost"
	}
	return host, port, nil
}

// resolve returns the IPv4 address of host.
func resolve(ctx context.Context, host string) (netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		a = a.Unmap()
		if !a.Is4() {
			return netip.Addr{}, fmt.Errorf("%s: ospfd's OSPF API is IPv4 only", host)
		}
		return a, nil
	}
	as, err := net.DefaultResolver.LookupNetIP(ctx, "ip4", host)
	if err != nil {
		return netip.Addr{}, err
	}
	if len(as) == 0 {
		return netip.Addr{}, fmt.Errorf("%s has no IPv4 address", host)
	}
	return as[0].Unmap(), nil
}

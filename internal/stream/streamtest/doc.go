// Package streamtest is test support for the publishers of the change
// feed (internal/stream, internal/archive, internal/relay): a database that
// emits events on demand, the feed's lines in the seed's format, WebSocket
// client helpers, a settable clock and Gomega with these tests' timeouts.
//
// It imports none of the publishers, so that their own (internal) tests
// can use it; each keeps its own helpers for what it alone knows, such as
// a running Server.
package streamtest

// Package streamtest is test support for the publishers of the change
// feed (internal/stream, internal/archive, internal/relay): a database that
// emits events on demand, the feed's lines in the seed's format, WebSocket
// client helpers, a settable clock, files written with their directories,
// Gomega with these tests' timeouts, and Serve, which runs a server
// (anything with ServeHTTP and Run) behind an httptest server for the
// length of a test.
//
// It imports none of the publishers, so that their own (internal) tests
// can use it; each keeps its own helpers for what it alone knows, such as
// how to configure its Server.
package streamtest

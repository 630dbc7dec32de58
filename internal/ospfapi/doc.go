// Package ospfapi is the client side of FRR ospfd's OSPF API
// (ospfd/ospf_api.h, ospf_apiserver.c): message framing, the two-socket
// handshake, and a session that registers for LSA changes, receives the
// full LSDB dump, marks its end, and then streams live changes.
//
// The API uses two TCP connections: the client connects to ospfd (port
// 2607) for requests and replies, and ospfd connects back to the client's
// source port plus one for notifications. Dial picks that port pair so
// that concurrent clients cannot collide, and accepts the connection back
// only from the server's address. Sync sends REGISTER_EVENT, SYNC_LSDB and
// SYNC_ROUTER_ID at once; ospfd queues the dump, then its ROUTER_ID_CHANGE
// answer, on the notification channel, so that answer marks the end of
// the dump. Notifications reach the caller in stream order through
// callbacks, without copying: the LSA bytes stay valid only during the
// callback.
//
// What ospfd sends, and does not (FRR 8.1 and later, Debian's 8.4.4
// included): LSAs of the dump carry the SYNC_LSDB request's sequence
// number, live changes 0; MaxAge LSAs are dumped, with raw ages (the
// DoNotAge bit may be set); NSSA (type 7) LSAs are never dumped; up to
// FRR 10.3 every reinstall is LSA_DELETE_NOTIFY of the old instance then
// LSA_UPDATE_NOTIFY of the new one; and a message whose body exceeds
// 1,500 bytes (a Router-LSA with more than 122 links) is dropped, taking
// with it every notification still queued for the client (see
// ospfapitest.OversizeFRR84), without any error on the connection.
//
// The package does not decode LSAs (package lsdb does), keep a database,
// or reconnect: a session ends at its first error, which says plainly what
// happened (*OpError wrapping ErrPeerClosed, ErrProbeTimeout, an
// *APIError, a *ProtocolError, or a net error), and the caller dials again.
package ospfapi

package ospfapi

import (
	"errors"
	"fmt"
)

// APIError is a non-zero error code in a REPLY from ospfd. Test for a
// particular code with errors.Is and one of the Err sentinels below, or
// get the code with errors.As.
type APIError struct {
	Code    int8    // OSPF_API_* code of ospf_api.h, negative
	Request MsgType // the request it answers, when known
}

// Reply codes of ospf_api.h. Where FRR's developer documentation lists
// other values, ospf_api.h (what ospfd actually sends) wins.
const (
	CodeOK                      int8 = 0
	CodeNoSuchInterface         int8 = -1
	CodeNoSuchArea              int8 = -2
	CodeNoSuchLSA               int8 = -3
	CodeIllegalLSAType          int8 = -4
	CodeOpaqueTypeInUse         int8 = -5
	CodeOpaqueTypeNotRegistered int8 = -6
	CodeNotReady                int8 = -7
	CodeNoMemory                int8 = -8
	CodeError                   int8 = -9
	CodeUndef                   int8 = -10
)

// Sentinels for errors.Is: each matches any *APIError with its code.
var (
	ErrNoSuchInterface         error = &APIError{Code: CodeNoSuchInterface}
	ErrNoSuchArea              error = &APIError{Code: CodeNoSuchArea}
	ErrNoSuchLSA               error = &APIError{Code: CodeNoSuchLSA}
	ErrIllegalLSAType          error = &APIError{Code: CodeIllegalLSAType}
	ErrOpaqueTypeInUse         error = &APIError{Code: CodeOpaqueTypeInUse}
	ErrOpaqueTypeNotRegistered error = &APIError{Code: CodeOpaqueTypeNotRegistered}
	ErrNotReady                error = &APIError{Code: CodeNotReady}
	ErrNoMemory                error = &APIError{Code: CodeNoMemory}
	ErrError                   error = &APIError{Code: CodeError}
	ErrUndef                   error = &APIError{Code: CodeUndef}
)

var codeNames = map[int8]string{
	CodeOK:                      "OK",
	CodeNoSuchInterface:         "NOSUCHINTERFACE",
	CodeNoSuchArea:              "NOSUCHAREA",
	CodeNoSuchLSA:               "NOSUCHLSA",
	CodeIllegalLSAType:          "ILLEGALLSATYPE",
	CodeOpaqueTypeInUse:         "OPAQUETYPEINUSE",
	CodeOpaqueTypeNotRegistered: "OPAQUETYPENOTREGISTERED",
	CodeNotReady:                "NOTREADY",
	CodeNoMemory:                "NOMEMORY",
	CodeError:                   "ERROR",
	CodeUndef:                   "UNDEF",
}

// CodeName returns ospfd's name of a reply code (OSPF_API_ without the
// prefix), or "code N" for an unknown one.
func CodeName(code int8) string {
	if n, ok := codeNames[code]; ok {
		return n
	}
	return fmt.Sprintf("code %d", code)
}

// Error reads like "ospfd replied NOSUCHAREA (-2) to SYNC_LSDB".
func (e *APIError) Error() string {
	if e.Request == 0 {
		return fmt.Sprintf("ospfd replied %s (%d)", CodeName(e.Code), e.Code)
	}
	return fmt.Sprintf("ospfd replied %s (%d) to %s", CodeName(e.Code), e.Code, e.Request)
}

// Is reports whether target is an *APIError with the same code, so that
// errors.Is(err, ErrNoSuchArea) works whatever request the error answers.
func (e *APIError) Is(target error) bool {
	t, ok := target.(*APIError)
	return ok && t.Code == e.Code
}

// ProtocolError is a message that breaks the OSPF API framing or the
// layout of its type: ospfd never sends one, so the stream cannot be
// trusted after it. A message of an unknown type is not an error (it comes
// back as *RawMessage).
type ProtocolError struct {
	Type   MsgType // type of the offending message, 0 if the header was bad
	Seq    uint32
	Reason string // what was wrong, e.g. "version 2, want 1"
}

// Error reads like "OSPF API protocol error: LSA_UPDATE_NOTIFY seq 0: body of 8 bytes shorter than 32".
func (e *ProtocolError) Error() string {
	if e.Type == 0 {
		return "OSPF API protocol error: " + e.Reason
	}
	return fmt.Sprintf("OSPF API protocol error: %s seq %d: %s", e.Type, e.Seq, e.Reason)
}

// ErrPeerClosed means ospfd closed the connection: it stopped or
// restarted, or dropped this client (on a malformed request, or when a
// write to the client failed).
var ErrPeerClosed = errors.New("ospfd closed the connection")

// ErrClosed is returned by Sync after Close.
var ErrClosed = errors.New("session closed")

// ErrNoAsyncConnection means ospfd accepted the synchronous connection but
// did not connect back to the client's asynchronous port in time: a
// firewall in between, or NAT (ospfd connects to the address it sees).
var ErrNoAsyncConnection = errors.New("ospfd did not connect back for the asynchronous channel")

// ErrProbeTimeout means ospfd did not answer a liveness probe in time: it
// is hung, or the path to it is.
var ErrProbeTimeout = errors.New("ospfd did not answer in time")

// OpError is the error of an operation on the connection with ospfd: Op
// says which ("dial", "accept async", "read sync", "read async", "write
// sync", "register event", "sync lsdb", "sync router id", "probe"), Addr
// the server, and Err what happened (a net error, ErrPeerClosed, an
// *APIError, a *ProtocolError, ...).
type OpError struct {
	Op   string
	Addr string
	Err  error
}

// Error reads like "ospfapi: read async 10.0.0.1:2607: ospfd closed the connection".
func (e *OpError) Error() string {
	if e.Addr == "" {
		return "ospfapi: " + e.Op + ": " + e.Err.Error()
	}
	return "ospfapi: " + e.Op + " " + e.Addr + ": " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *OpError) Unwrap() error { return e.Err }

package ospfapi

import "fmt"

// Version is the OSPF API protocol version, the first byte of every header.
const Version = 1

// DefaultPort is the TCP port ospfd's API server listens on (ospf_api.h
// OSPF_API_SYNC_PORT; ospfd takes "ospfapi" from /etc/services if present).
const DefaultPort = 2607

// Sequence numbers of requests lie in [MinSeq, MaxSeq]; notifications that
// answer no request carry 0.
const (
	MinSeq = 1
	MaxSeq = 1<<31 - 1
)

// MaxLSAMessageBody is the largest message body ospfd delivers. Since FRR
// 8.1 its msg_dup refuses a longer message (OSPF_MAX_LSA_SIZE), so an LSA
// notification carries at most a 1,488-byte LSA: a Router-LSA with more
// than 122 links never reaches a client. Bodies up to 65,535 bytes are
// still accepted, in case a later ospfd lifts the limit.
const MaxLSAMessageBody = 1500

// MsgType is the message type of an OSPF API message (ospf_api.h).
type MsgType uint8

// Requests, sent by the client on the synchronous channel.
const (
	MsgRegisterOpaqueType   MsgType = 1
	MsgUnregisterOpaqueType MsgType = 2
	MsgRegisterEvent        MsgType = 3
	MsgSyncLSDB             MsgType = 4
	MsgOriginateRequest     MsgType = 5
	MsgDeleteRequest        MsgType = 6
	MsgSyncReachable        MsgType = 7
	MsgSyncISM              MsgType = 8
	MsgSyncNSM              MsgType = 9
	MsgSyncRouterID         MsgType = 19
)

// Messages from ospfd: MsgReply on the synchronous channel, the others
// (notifications) on the asynchronous one.
const (
	MsgReply           MsgType = 10
	MsgReadyNotify     MsgType = 11
	MsgLSAUpdateNotify MsgType = 12
	MsgLSADeleteNotify MsgType = 13
	MsgNewIf           MsgType = 14
	MsgDelIf           MsgType = 15
	MsgISMChange       MsgType = 16
	MsgNSMChange       MsgType = 17
	MsgReachableChange MsgType = 18
	MsgRouterIDChange  MsgType = 20
)

var msgTypeNames = [...]string{
	MsgRegisterOpaqueType:   "REGISTER_OPAQUETYPE",
	MsgUnregisterOpaqueType: "UNREGISTER_OPAQUETYPE",
	MsgRegisterEvent:        "REGISTER_EVENT",
	MsgSyncLSDB:             "SYNC_LSDB",
	MsgOriginateRequest:     "ORIGINATE_REQUEST",
	MsgDeleteRequest:        "DELETE_REQUEST",
	MsgSyncReachable:        "SYNC_REACHABLE",
	MsgSyncISM:              "SYNC_ISM",
	MsgSyncNSM:              "SYNC_NSM",
	MsgReply:                "REPLY",
	MsgReadyNotify:          "READY_NOTIFY",
	MsgLSAUpdateNotify:      "LSA_UPDATE_NOTIFY",
	MsgLSADeleteNotify:      "LSA_DELETE_NOTIFY",
	MsgNewIf:                "NEW_IF",
	MsgDelIf:                "DEL_IF",
	MsgISMChange:            "ISM_CHANGE",
	MsgNSMChange:            "NSM_CHANGE",
	MsgReachableChange:      "REACHABLE_CHANGE",
	MsgSyncRouterID:         "SYNC_ROUTER_ID",
	MsgRouterIDChange:       "ROUTER_ID_CHANGE",
}

// String returns FRR's name of the type without its MSG_ prefix, or
// "type-N" for a type this package does not know.
func (t MsgType) String() string {
	if int(t) < len(msgTypeNames) && msgTypeNames[t] != "" {
		return msgTypeNames[t]
	}
	return fmt.Sprintf("type-%d", uint8(t))
}

// Origin selects LSAs in an LSAFilter by who originated them.
type Origin uint8

// Origins of lsa_filter_type.
const (
	NonSelfOriginated Origin = 0
	SelfOriginated    Origin = 1
	AnyOrigin         Origin = 2
)

// AllLSATypes is the type mask that selects every LSA type: bit t-1 stands
// for LS type t (ospf_api.h Power2).
const AllLSATypes uint16 = 0xffff

// TypeBit returns the filter mask bit of LS type t (1 to 16), 0 otherwise.
func TypeBit(t uint8) uint16 {
	if t < 1 || t > 16 {
		return 0
	}
	return 1 << (t - 1)
}

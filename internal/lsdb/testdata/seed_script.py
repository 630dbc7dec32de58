#!/usr/bin/python3
# Plays a script of LSA notifications (seed_order.ops.json, written by
# TestSnapshotIsTheSeeds) to the seed's own LSDB and prints, for each
# "snapshot" step, json.dumps(to_api_dict()) as the seed's archival.py
# writes it, with "updated" set to 0.
#
#   /usr/bin/python3 seed_script.py SEED/src OPS.json
#
# Two of the seed's timers are moved so that the script needs no waiting:
# updates less than 1 s apart are not dropped (the seed's MIN_LS_ARRIVAL,
# one of its known bugs), and an "expire" step makes every deletion's
# 10-second TTL pass at once.
import collections.abc, asyncio, datetime, json, struct, sys  # collections.abc first: Debian's frozendict needs it

sys.path.insert(0, sys.argv[1])
from frozendict import frozendict

_default = json.JSONEncoder.default


def _enc(self, o):
    if isinstance(o, frozendict):
        return dict(o)
    return _default(self, o)


json.JSONEncoder.default = _enc

import api_stream_client.lsdb as seedlsdb
from api_stream_client.ospfclient import MSG_LSA_UPDATE_NOTIFY, MSG_LSA_DELETE_NOTIFY, FMT_LSA_HEADER

seedlsdb.MIN_LS_ARRIVAL = datetime.timedelta(0)


async def main():
    with open(sys.argv[2]) as f:
        ops = json.load(f)
    db = seedlsdb.LSDB()
    db.initial_load_active = False
    for op in ops:
        if op["op"] in ("update", "delete"):
            raw = bytes.fromhex(op["lsa"])
            header = struct.unpack(FMT_LSA_HEADER, raw[:20])
            mt = MSG_LSA_UPDATE_NOTIFY if op["op"] == "update" else MSG_LSA_DELETE_NOTIFY
            db.recv_lsa_callback(mt, 0, 0, header, raw[20:], raw)
        elif op["op"] == "expire":
            past = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
            db.expiring_queue = [(past, lsa) for _, lsa in db.expiring_queue]
            await asyncio.sleep(1.2)  # the seed's cleaner runs every second
        elif op["op"] == "snapshot":
            payload = db.to_api_dict()
            payload["updated"] = 0
            print(json.dumps(payload))


asyncio.run(main())

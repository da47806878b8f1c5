"""An independent producer for the end-to-end suite: confluent-kafka (librdkafka) and
fastavro, writing from the .avsc files in schemas/ only (no Tierline code).

    produce.py BROKERS RECORDS.jsonl [--poison N] [--create-topics]

RECORDS.jsonl holds Tierline's JSON form of records (one per line, with "type").
Each is encoded with fastavro against the newest schema of its record in
schemas/catalog.json, framed Confluent-style (0x00 + schema id) and produced to its
topic with key = supplier_id. --poison N adds N messages that break the contract (one
of each kind in turn). Prints one JSON line: {"produced": n, "poison": m}.
"""
import datetime, io, json, os, struct, sys, uuid

import fastavro
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
TOPICS = {
    "PurchaseOrderLinePlaced": "srm.purchase-orders.v1",
    "PurchaseOrderLineConfirmed": "srm.purchase-orders.v1",
    "PurchaseOrderLineChanged": "srm.purchase-orders.v1",
    "PurchaseOrderLineCancelled": "srm.purchase-orders.v1",
    "GoodsReceived": "srm.deliveries.v1",
    "GoodsReceiptReversed": "srm.deliveries.v1",
    "InspectionCompleted": "srm.inspections.v1",
    "AfterSalesCaseOpened": "srm.after-sales.v1",
    "AfterSalesCaseResolved": "srm.after-sales.v1",
    "SupplierAssessmentCompleted": "srm.assessments.v1",
    "SupplierAssessmentRetracted": "srm.assessments.v1",
    "SupplierCertificateRecorded": "srm.assessments.v1",
    "SupplierComplianceViolationRecorded": "srm.assessments.v1",
    "SupplierComplianceViolationRetracted": "srm.assessments.v1",
    "SupplierRiskSignalRecorded": "srm.assessments.v1",
    "RectificationPlanOpened": "srm.supplier-actions.v1",
    "RectificationProgressReported": "srm.supplier-actions.v1",
    "RectificationPlanClosed": "srm.supplier-actions.v1",
    "SupplierStatusDecided": "srm.supplier-actions.v1",
}
ALL_TOPICS = sorted(set(TOPICS.values())) + ["srm.supplier-alerts.v1", "srm.dead-letter.v1"]


def load_schemas():
    catalog = json.load(open(os.path.join(ROOT, "schemas", "catalog.json")))
    newest = {}
    for s in catalog["schemas"]:
        name = s["record"].split(".")[-1]
        if name not in newest or s["version"] > newest[name]["version"]:
            newest[name] = s
    out = {}
    for name, s in newest.items():
        raw = json.load(open(os.path.join(ROOT, "schemas", s["file"])))
        out[name] = (s["id"], fastavro.parse_schema(raw), raw)
    return out


def logical(field_type):
    if isinstance(field_type, list):
        for b in field_type:
            if b != "null":
                return logical(b)
    if isinstance(field_type, dict):
        return field_type.get("logicalType")
    return None


def to_avro(raw_schema, rec):
    out = {}
    for f in raw_schema["fields"]:
        v = rec.get(f["name"])
        lt = logical(f["type"])
        if v is not None and lt == "date":
            v = datetime.date.fromisoformat(v)
        elif v is not None and lt == "timestamp-millis":
            v = datetime.datetime.fromisoformat(v.replace("Z", "+00:00"))
        out[f["name"]] = v
    return out


def frame(schema_id, parsed, value):
    buf = io.BytesIO()
    buf.write(b"\x00" + struct.pack(">I", schema_id))
    fastavro.schemaless_writer(buf, parsed, value)
    return buf.getvalue()


def poison(i, schemas):
    sid, parsed, raw = schemas["GoodsReceived"]
    good = {
        "event_id": str(uuid.UUID(int=(0xDEAD << 112) | i)), "source": "poison",
        "occurred_at": datetime.datetime(2026, 1, 5, tzinfo=datetime.timezone.utc),
        "supplier_id": "SUP-POISON", "receipt_id": f"GR-P{i}", "po_number": "PO-P",
        "line_number": 1, "quantity": 1.0, "site": "s", "delivery_note": None,
    }
    kind = i % 5
    if kind == 0:
        return b""                                           # empty
    if kind == 1:
        return b"\x07garbage"                                # unknown framing
    if kind == 2:
        return b"\x00" + struct.pack(">I", 999999) + b"\x02"  # unknown schema id
    if kind == 3:
        return frame(sid, parsed, good)[:-4]                  # truncated datum
    bad = dict(good, quantity=-5.0)                          # breaks quantity > 0
    return frame(sid, parsed, bad)


def main():
    brokers, path = sys.argv[1], sys.argv[2]
    n_poison = int(sys.argv[sys.argv.index("--poison") + 1]) if "--poison" in sys.argv else 0
    if "--create-topics" in sys.argv:
        admin = AdminClient({"bootstrap.servers": brokers})
        # On a cluster, every broker holds a replica and a write needs all but one.
        rf = int(sys.argv[sys.argv.index("--replication") + 1]) if "--replication" in sys.argv else 1
        config = {"min.insync.replicas": str(rf - 1)} if rf > 1 else {}
        fs = admin.create_topics([NewTopic(t, num_partitions=3, replication_factor=rf, config=config) for t in ALL_TOPICS])
        for t, f in fs.items():
            try:
                f.result(15)
            except Exception as e:  # already there is fine
                if "TOPIC_ALREADY_EXISTS" not in str(e):
                    raise
    schemas = load_schemas()
    p = Producer({"bootstrap.servers": brokers, "enable.idempotence": True, "linger.ms": 5})
    failed = []
    cb = lambda err, msg: failed.append(err) if err else None
    produced = 0
    with open(path) as f:
        for line in f:
            rec = json.loads(line)
            name = rec["type"]
            sid, parsed, raw = schemas[name]
            value = frame(sid, parsed, to_avro(raw, rec))
            while True:
                try:
                    p.produce(TOPICS[name], key=rec["supplier_id"], value=value, on_delivery=cb)
                    break
                except BufferError:
                    p.poll(0.1)
            p.poll(0)
            produced += 1
    for i in range(n_poison):
        p.produce("srm.inspections.v1" if i % 2 else "srm.deliveries.v1", key="SUP-POISON", value=poison(i, schemas), on_delivery=cb)
    left = p.flush(60)
    if failed or left:
        print(json.dumps({"error": [str(e) for e in failed[:5]], "unflushed": left}))
        sys.exit(1)
    print(json.dumps({"produced": produced, "poison": n_poison}))


if __name__ == "__main__":
    main()

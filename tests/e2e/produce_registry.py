"""An independent registry producer for the end-to-end suite: confluent-kafka's own
AvroSerializer with automatic registration (subjects by record name), so the Schema
Registry assigns the schema ids, as a real ERP producer's serializer does.

    produce_registry.py BROKERS REGISTRY_URL RECORDS.jsonl
        [--writer newest|foreign|incompatible] [--pad-to ID] [--unknown-id ID]

--writer picks the writer schema: Tierline's newest (default); `foreign`, the producer's
own version with one more optional field (`wms_batch`); `incompatible`, a version whose
`quantity` is a string. --pad-to registers filler schemas first, so that the next id the
registry hands out is ID (to collide with a catalog id). --unknown-id adds one message
framed with an id the registry does not hold. Prints one JSON line:
{"produced": n, "ids": {record: id}}.
"""
import copy, io, json, struct, sys

import fastavro
from confluent_kafka import Producer
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient, record_subject_name_strategy
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from produce import TOPICS, load_schemas, to_avro


def arg(name, default=None):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def writer(raw, kind):
    raw = copy.deepcopy(raw)
    if kind == "foreign":
        raw["fields"].append({"name": "wms_batch", "type": ["null", "string"], "default": None})
    elif kind == "incompatible":
        for f in raw["fields"]:
            if f["name"] == "quantity":
                f["type"] = "string"
    return raw


def value_of(raw, rec, kind):
    v = to_avro(raw, rec)
    if kind == "foreign":
        v["wms_batch"] = "B7"
    elif kind == "incompatible" and "quantity" in v:
        v["quantity"] = str(v["quantity"])
    return v


def main():
    brokers, url, path = sys.argv[1], sys.argv[2], sys.argv[3]
    kind = arg("--writer", "newest")
    registry = SchemaRegistryClient({"url": url})
    pad_to = arg("--pad-to")
    if pad_to is not None:
        n, last = 0, 0
        while last < int(pad_to) - 1:
            filler = json.dumps({"type": "record", "name": f"Filler{n}", "fields": []})
            last = registry.register_schema("filler", Schema(filler, "AVRO"))
            n += 1
    schemas = load_schemas()
    conf = {"auto.register.schemas": True, "subject.name.strategy": record_subject_name_strategy}
    serializers = {}
    p = Producer({"bootstrap.servers": brokers, "enable.idempotence": True, "linger.ms": 5})
    failed = []
    cb = lambda err, msg: failed.append(err) if err else None
    ids, produced = {}, 0
    with open(path) as f:
        for line in f:
            rec = json.loads(line)
            name = rec["type"]
            _, _, raw = schemas[name]
            w = writer(raw, kind)
            if name not in serializers:
                serializers[name] = AvroSerializer(registry, json.dumps(w), conf=conf)
            topic = TOPICS[name]
            value = serializers[name](value_of(w, rec, kind), SerializationContext(topic, MessageField.VALUE))
            ids[name] = struct.unpack(">I", value[1:5])[0]
            p.produce(topic, key=rec["supplier_id"], value=value, on_delivery=cb)
            p.poll(0)
            produced += 1
    unknown = arg("--unknown-id")
    if unknown is not None:
        _, parsed, raw = schemas["GoodsReceived"]
        buf = io.BytesIO()
        buf.write(b"\x00" + struct.pack(">I", int(unknown)))
        rec = {"type": "GoodsReceived", "event_id": "0190c3a0-0000-7000-8000-00000000dead",
               "source": "wms", "occurred_at": "2026-06-10T08:00:00Z", "supplier_id": "E2E-R",
               "receipt_id": "GR-U", "po_number": "PO-U", "line_number": 1, "quantity": 1.0,
               "site": "s"}
        fastavro.schemaless_writer(buf, parsed, to_avro(raw, rec))
        p.produce("srm.deliveries.v1", key="E2E-R", value=buf.getvalue(), on_delivery=cb)
    left = p.flush(60)
    if failed or left:
        print(json.dumps({"error": [str(e) for e in failed[:5]], "unflushed": left}))
        sys.exit(1)
    print(json.dumps({"produced": produced, "ids": ids}))


if __name__ == "__main__":
    main()

"""Reads a topic the way a consumer with Confluent's standard deserializer does:
confluent-kafka's AvroDeserializer, the writer schema fetched from the Schema Registry
by the id in each message.

    consume_registry.py BROKERS REGISTRY_URL TOPIC COUNT

Prints one JSON line: {"messages": [{"schema_id": id, "ce_id": header, "value": {...}}]}.
"""
import json, struct, sys, time

from confluent_kafka import Consumer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext


def main():
    brokers, url, topic, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    deserialize = AvroDeserializer(SchemaRegistryClient({"url": url}))
    c = Consumer({"bootstrap.servers": brokers, "group.id": f"registry-check-{time.time_ns()}",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.subscribe([topic])
    out, deadline = [], time.time() + 60
    while len(out) < count and time.time() < deadline:
        m = c.poll(0.5)
        if m is None or m.error():
            continue
        headers = dict(m.headers() or [])
        value = deserialize(m.value(), SerializationContext(topic, MessageField.VALUE))
        out.append({"schema_id": struct.unpack(">I", m.value()[1:5])[0],
                    "ce_id": headers.get("ce_id", b"").decode(), "value": value})
    c.close()
    print(json.dumps({"messages": out}, default=str))


if __name__ == "__main__":
    main()

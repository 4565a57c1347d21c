#!/usr/bin/env python3
"""Interop check of --wire-format confluent with Confluent's own Python
serializers (confluent-kafka 2.16, fastavro), against a running broker.

  python3 -m venv /tmp/cfk && /tmp/cfk/bin/pip install 'confluent-kafka[avro,schemaregistry]'
  bash scripts/kafka.sh up
  /tmp/cfk/bin/python scripts/interop/confluent_check.py

1. Confluent's AvroSerializer writes input events with a producer's own,
   evolved schemas (fields in another order, extra fields, an extra enum
   symbol), registering them under <topic>-value as it does by default.
2. `sessiond run --wire-format confluent` reads them (goavro with the
   writer's schema, resolved to sessiond's).
3. Confluent's AvroDeserializer reads every update sessiond wrote, by the
   schema id in each record's header.
"""
import json, os, random, string, subprocess, sys, tempfile, time, uuid

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BROKERS = os.environ.get("KAFKA_BROKERS", "127.0.0.1:39092")
REGISTRY = "http://127.0.0.1:18081"

def optional(name):
    return {"name": name, "type": ["null", "string"], "default": None}

ITEM = {"type": "record", "name": "Item", "fields": [
    {"name": "price_currency_code", "type": "string"}, {"name": "unit_price", "type": "double"},
    {"name": "quantity", "type": "int"}, {"name": "name", "type": "string"},
    {"name": "product_id", "type": "string"}, {"name": "gift_wrap", "type": "boolean", "default": False}]}
CART = {"type": "record", "name": "ShopCartEvent", "namespace": "com.shop", "fields": [
    {"name": "occurred_at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "event_id", "type": "string"}, {"name": "visitor_id", "type": "string"}, optional("channel"),
    {"name": "cart", "type": ["null", {"type": "record", "name": "Cart", "fields": [
        {"name": "items", "type": {"type": "array", "items": ITEM}}, optional("coupon")]}], "default": None}]}
ACTION = {"type": "record", "name": "ShopActionEvent", "namespace": "com.shop", "fields": [
    {"name": "event_id", "type": "string"}, {"name": "occurred_at", "type": "long"},
    {"name": "visitor_id", "type": "string"}, optional("channel"),
    {"name": "action", "type": {"type": "record", "name": "Action", "fields": [
        optional("referrer"), optional("product_id"),
        {"name": "type", "type": {"type": "enum", "name": "ActionType",
                                  "symbols": ["view_product", "view_cart", "view_front_page", "wishlist"]}}]}}]}

def main():
    suffix = "".join(random.choices(string.ascii_lowercase, k=8))
    topics = {k: f"interop-{k}-{suffix}" for k in ("cart", "customer", "actions", "updates", "dlq")}
    admin = AdminClient({"bootstrap.servers": BROKERS})
    for f in admin.create_topics([NewTopic(t, 3, 1) for t in topics.values()]).values():
        f.result()
    # Built first and run directly (not `go run`), so that terminate()
    # stops the process itself and not only the go command.
    bins = tempfile.mkdtemp()
    for name, pkg in (("registry", "./scripts/interop/registry"), ("sessiond", "./cmd/sessiond")):
        subprocess.run(["go", "build", "-o", os.path.join(bins, name), pkg], cwd=ROOT, check=True)
    registry = subprocess.Popen([os.path.join(bins, "registry")])
    try:
        return run(topics, os.path.join(bins, "sessiond"))
    finally:
        registry.terminate()
        registry.wait()

def run(topics, sessiond_bin):
    sr = SchemaRegistryClient({"url": REGISTRY})
    for _ in range(100):
        try:
            sr.get_subjects()
            break
        except Exception:
            time.sleep(0.2)
    cart_ser = AvroSerializer(sr, json.dumps(CART))
    action_ser = AvroSerializer(sr, json.dumps(ACTION))
    p = Producer({"bootstrap.servers": BROKERS, "partitioner": "murmur2_random"})
    t0, actions, wishlists = 1_764_000_000_000, 0, 0
    for v in range(50):
        visitor = f"v-{v:03d}"
        at = t0 + v * 1000
        cart = {"occurred_at": at, "event_id": str(uuid.uuid4()), "visitor_id": visitor, "channel": "web",
                "cart": {"items": [{"price_currency_code": "EUR", "unit_price": 9.5, "quantity": 2, "name": "Sock",
                                    "product_id": f"p{v}", "gift_wrap": True}], "coupon": None}}
        p.produce(topics["cart"], key=visitor, value=cart_ser(cart, SerializationContext(topics["cart"], MessageField.VALUE)))
        for i, typ in enumerate(["view_product", "view_cart", "wishlist"]):
            act = {"event_id": str(uuid.uuid4()), "occurred_at": at + 10 + i, "visitor_id": visitor, "channel": None,
                   "action": {"referrer": "ad", "product_id": f"p{v}", "type": typ}}
            p.produce(topics["actions"], key=visitor, value=action_ser(act, SerializationContext(topics["actions"], MessageField.VALUE)))
            if typ == "wishlist":
                wishlists += 1
            else:
                actions += 1
    p.flush()
    sessiond = subprocess.Popen([sessiond_bin, "run", "--brokers", BROKERS,
        "--wire-format", "confluent", "--schema-registry-url", REGISTRY, "--group", "interop-" + topics["dlq"],
        "--cart-topic", topics["cart"], "--customer-topic", topics["customer"], "--action-topic", topics["actions"],
        "--output-topic", topics["updates"], "--dlq-topic", topics["dlq"], "--http-addr", "", "--log-level", "warn"], cwd=ROOT)
    try:
        updates = consume(topics["updates"], actions, AvroDeserializer(sr))
        dead = consume(topics["dlq"], wishlists, None)
    finally:
        sessiond.terminate()
        sessiond.wait()
    carts = [u for u in updates if u["cart"] and u["cart"]["items"][0]["quantity"] == 2]
    print(f"Confluent's AvroDeserializer read {len(updates)} updates of {actions} actions "
          f"({len(carts)} with the producer's cart); {len(dead)} dead letters for {wishlists} wishlist actions")
    print("one update:", json.dumps(updates[0], default=str)[:300])
    ok = len(updates) == actions and len(carts) == actions and len(dead) == wishlists
    print("OK" if ok else "FAILED")
    return 0 if ok else 1

def consume(topic, n, deserializer, timeout=90):
    c = Consumer({"bootstrap.servers": BROKERS, "group.id": "interop-reader-" + topic, "auto.offset.reset": "earliest"})
    c.subscribe([topic])
    out, deadline = [], time.time() + timeout
    while len(out) < n and time.time() < deadline:
        m = c.poll(1.0)
        if m is None or m.error():
            continue
        if deserializer:
            out.append(deserializer(m.value(), SerializationContext(topic, MessageField.VALUE)))
        else:
            out.append(m.value())
    c.close()
    return out

if __name__ == "__main__":
    sys.exit(main())

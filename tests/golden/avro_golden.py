#!/usr/bin/env python3
"""Golden Avro vectors from an independent implementation (fastavro).

  avro_golden.py generate DIR   write DIR/manifest.json and one .bin per case and framing
  avro_golden.py verify DIR     read DIR/manifest.json and the .bin files another codec
                                wrote, decode them with fastavro, compare to the expected
                                values; prints 'N passed, M failed'

Values in manifests use Tierline's JSON form: dates YYYY-MM-DD, timestamps RFC 3339
UTC with milliseconds, uuids hyphenated lower case, enums as symbols, plus "type".
"""
import datetime as dt
import io
import json
import pathlib
import struct
import sys
import uuid

import fastavro
from fastavro.schema import fingerprint, to_parsing_canonical_form

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "schemas"
EPOCH = dt.date(1970, 1, 1)
UTC = dt.timezone.utc

# CRC-64-AVRO as the Avro specification defines it, written out here so the
# fingerprint is checked against fastavro's own.
EMPTY64 = 0xC15D213AA4D7A795
TABLE = []
for i in range(256):
    fp = i
    for _ in range(8):
        fp = (fp >> 1) ^ (EMPTY64 & -(fp & 1))
    TABLE.append(fp)


def rabin(data: bytes) -> int:
    fp = EMPTY64
    for b in data:
        fp = (fp >> 8) ^ TABLE[(fp ^ b) & 0xFF]
    return fp


def load_catalog():
    cat = json.loads((SCHEMAS / "catalog.json").read_text())
    out = []
    for s in cat["schemas"]:
        raw = json.loads((SCHEMAS / s["file"]).read_text())
        parsed = fastavro.parse_schema(raw)
        canonical = to_parsing_canonical_form(raw)
        fp = rabin(canonical.encode())
        # fastavro prints the fingerprint as hex of its little-endian bytes.
        theirs = fingerprint(canonical, "CRC-64-AVRO")
        if theirs != struct.pack("<Q", fp).hex():
            raise SystemExit(f"fingerprint mismatch for {s['file']}: {theirs} vs {fp:016x}")
        out.append(dict(s, schema=parsed, fingerprint=fp))
    return out


def latest(catalog, record):
    return max((s for s in catalog if s["record"] == record), key=lambda s: s["version"])


def ts(s):
    return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def to_tierline_json(short_name, datum):
    """A fastavro datum (logical types decoded) in Tierline's JSON form."""
    out = {"type": short_name}
    for k, v in datum.items():
        if isinstance(v, dt.datetime):
            v = v.astimezone(UTC)
            v = v.strftime("%Y-%m-%dT%H:%M:%S.") + f"{v.microsecond // 1000:03d}Z"
        elif isinstance(v, dt.date):
            v = v.isoformat()
        elif isinstance(v, uuid.UUID):
            v = str(v)
        out[k] = v
    return out


def to_fastavro(schema, value):
    """Tierline JSON form -> the values fastavro writes (logical types as Python types)."""
    out = {}
    for field in schema["fields"]:
        name = field["name"]
        if name not in value:
            continue
        v = value[name]
        t = field["type"]
        if isinstance(t, list):
            t = next((b for b in t if b != "null"), None) if v is not None else "null"
        logical = t.get("logicalType") if isinstance(t, dict) else None
        if v is not None and logical == "date":
            v = dt.date.fromisoformat(v)
        elif v is not None and logical == "timestamp-millis":
            v = ts(v)
        out[name] = v
    return out


def frame(framing, entry, datum):
    if framing == "confluent":
        return b"\x00" + struct.pack(">I", entry["id"]) + datum
    return b"\xc3\x01" + struct.pack("<Q", entry["fingerprint"]) + datum


# One or more cases per record: a typical one and one at the edges of the rules.
U = "0190a3c2-7d4e-7c11-9a5b-3f2e1d0c%04x"
CASES = [
    ("PurchaseOrderLinePlaced", 1, dict(event_id=U % 1, source="erp-eu-1", occurred_at="2026-03-02T08:15:30.123Z", supplier_id="SUP-00042", po_number="PO-2026-000117", line_number=1, item_id="FAB-COT-140", category="fabric", quantity=1200.0, unit_of_measure="m", unit_price=3.85, currency="EUR", reference_unit_price=3.7, requested_date="2026-03-23", promised_date=None)),
    ("PurchaseOrderLinePlaced", 1, dict(event_id=U % 2, source="ERP/Überseehafen-Zoll-" + "ß" * 106, occurred_at="1990-01-01T00:00:00.000Z", supplier_id="a" * 60 + ".:_-", po_number="P" * 64, line_number=2147483647, item_id="", category="", quantity=5e-324, unit_of_measure="", unit_price=0.0, currency="JPY", reference_unit_price=None, requested_date="9999-12-31", promised_date="0001-01-01")),
    ("PurchaseOrderLineConfirmed", 1, dict(event_id=U % 3, source="erp-eu-1", occurred_at="2026-03-03T10:00:00.000Z", supplier_id="SUP-00042", po_number="PO-2026-000117", line_number=1, promised_date="2026-03-20", confirmed_quantity=1200.0)),
    ("PurchaseOrderLineChanged", 1, dict(event_id=U % 4, source="erp-eu-1", occurred_at="2026-03-05T11:30:00.000Z", supplier_id="SUP-00042", po_number="PO-2026-000117", line_number=1, requested_date="2026-03-27", quantity=None)),
    ("PurchaseOrderLineChanged", 1, dict(event_id=U % 5, source="erp-eu-1", occurred_at="2026-03-06T11:30:00.000Z", supplier_id="SUP-00042", po_number="PO-2026-000117", line_number=1, requested_date=None, quantity=1.5e9)),
    ("PurchaseOrderLineCancelled", 1, dict(event_id=U % 6, source="erp-eu-1", occurred_at="2026-03-07T09:00:00.000Z", supplier_id="SUP-00042", po_number="PO-2026-000118", line_number=3, cancelled_by="SUPPLIER", reason="capacity shortage — Werk 2")),
    ("GoodsReceived", 1, dict(event_id=U % 7, source="wms-plant-7", occurred_at="2026-03-21T06:45:00.500Z", supplier_id="SUP-00042", receipt_id="GR-88123", po_number="PO-2026-000117", line_number=1, quantity=1180.25, site="plant-7")),
    ("GoodsReceived", 2, dict(event_id=U % 8, source="wms-plant-7", occurred_at="2026-03-22T06:45:00.000Z", supplier_id="SUP-00042", receipt_id="GR-88124", po_number="PO-2026-000117", line_number=1, quantity=19.75, site="plant-7", delivery_note="DN-4471")),
    ("InspectionCompleted", 1, dict(event_id=U % 9, source="qms-1", occurred_at="2026-03-21T14:00:00.000Z", supplier_id="SUP-00042", inspection_id="INSP-5521", receipt_id="GR-88123", po_number="PO-2026-000117", line_number=1, item_id="FAB-COT-140", inspected_quantity=200.0, defective_quantity=200.0, critical_defects=2, disposition="REJECTED")),
    ("InspectionCompleted", 1, dict(event_id=U % 10, source="qms-1", occurred_at="2026-03-22T14:00:00.000Z", supplier_id="SUP-00042", inspection_id="INSP-5522", receipt_id=None, po_number=None, line_number=None, item_id="FAB-COT-140", inspected_quantity=0.1, defective_quantity=0.0, critical_defects=0, disposition="CONDITIONALLY_ACCEPTED")),
    ("AfterSalesCaseOpened", 1, dict(event_id=U % 11, source="crm", occurred_at="2026-05-01T12:00:00.000Z", supplier_id="SUP-00042", case_id="CASE-901", item_id="FAB-COT-140", po_number="PO-2026-000117", kind="WARRANTY_CLAIM", quantity=0.0, supplier_attributable=True)),
    ("AfterSalesCaseResolved", 1, dict(event_id=U % 12, source="crm", occurred_at="2026-05-09T17:30:00.000Z", supplier_id="SUP-00042", case_id="CASE-901", resolution="REPLACED", supplier_attributable=False, cost=46.2, currency="EUR")),
    ("AfterSalesCaseResolved", 1, dict(event_id=U % 13, source="crm", occurred_at="2026-05-10T17:30:00.000Z", supplier_id="SUP-00042", case_id="CASE-902", resolution="REJECTED", supplier_attributable=True, cost=None, currency=None)),
    ("SupplierAlertRaised", 1, dict(alert_id=U % 14, supplier_id="SUP-00042", rule="otif_rate", level="CRITICAL", value=0.7777777777777778, threshold=0.8, window_days=30, as_of="2026-06-01", raised_at="2026-06-01T09:12:13.014Z", policy_version="2026.1")),
    ("SupplierAlertResolved", 1, dict(alert_id=U % 14, supplier_id="SUP-00042", rule="otif_rate", value=0.93, as_of="2026-06-20", resolved_at="2026-06-20T00:00:01.000Z", policy_version="2026.1")),
    ("SupplierAlertResolved", 2, dict(alert_id=U % 14, supplier_id="SUP-00042", rule="otif_rate", value=0.85, as_of="2026-06-21", resolved_at="2026-06-21T10:00:00.000Z", policy_version="2026.1", reason="RETRACTED")),
    ("SupplierAssessmentCompleted", 1, dict(event_id=U % 17, source="qms-audit", occurred_at="2026-04-14T09:00:00.000Z", supplier_id="SUP-00042", assessment_id="AUD-2026-007", kind="ONSITE_AUDIT", assessor="P-1187", criteria=[dict(criterion="rnd_strength", score=4.0, min_score=1.0, max_score=5.0), dict(criterion="cooperation", score=0.9, min_score=0.0, max_score=1.0)], valid_until=None, comment="Plant 2 only.")),
    ("SupplierAssessmentCompleted", 1, dict(event_id=U % 18, source="api:buyer-desk", occurred_at="2026-04-15T23:59:59.999Z", supplier_id="SUP-00042", assessment_id="R." * 32, kind="BUYER_REVIEW", assessor="p" * 128, criteria=[dict(criterion="c_%02d" % i, score=-1e300 if i == 0 else 7.5, min_score=-1e300 if i == 0 else 0.0, max_score=10.0) for i in range(64)], valid_until="2026-04-15", comment="tab\there\r\nline ✓")),
    ("SupplierAssessmentRetracted", 1, dict(event_id=U % 19, source="qms-audit", occurred_at="2026-04-20T10:00:00.000Z", supplier_id="SUP-00042", assessment_id="AUD-2026-007", reason="audited the wrong plant")),
    ("SupplierCertificateRecorded", 1, dict(event_id=U % 20, source="qms-audit", occurred_at="2026-01-02T08:00:00.000Z", supplier_id="SUP-00042", certificate_id="CERT-9001-42", standard="ISO 9001:2015", status="VALID", valid_from="2025-03-01", valid_until="2028-02-29", issuer="TÜV")),
    ("SupplierCertificateRecorded", 1, dict(event_id=U % 21, source="qms-audit", occurred_at="2026-06-02T08:00:00.000Z", supplier_id="SUP-00042", certificate_id="CERT-16949-1", standard="IATF16949", status="SUSPENDED", valid_from="2026-06-02", valid_until="2026-06-02", issuer=None)),
    ("SupplierComplianceViolationRecorded", 1, dict(event_id=U % 22, source="compliance", occurred_at="2026-05-11T07:30:00.000Z", supplier_id="SUP-00042", violation_id="VIO-17", severity="CRITICAL", regulation="REACH Annex XVII", description="SVHC above 0.1% in trim")),
    ("SupplierComplianceViolationRetracted", 1, dict(event_id=U % 23, source="compliance", occurred_at="2026-05-12T07:30:00.000Z", supplier_id="SUP-00042", violation_id="VIO-17", reason="lab retest below the limit")),
    ("SupplierRiskSignalRecorded", 1, dict(event_id=U % 24, source="riskfeed", occurred_at="2026-02-01T00:00:00.000Z", supplier_id="SUP-00042", signal_id="RS-3301", kind="NATURAL_DISASTER", risk_score=100.0, valid_until="2026-03-02", feed="creditwatch", summary="flooding near plant 2")),
    ("RectificationPlanOpened", 1, dict(event_id=U % 25, source="api:alice", occurred_at="2026-06-02T10:00:00.000Z", supplier_id="SUP-00042", plan_id="PLAN-7", indicator="otif_rate", window_days=30, target=0.92, due_date="2026-08-01", trigger_alert_id=U % 14, owner="P-2231", measures=["second shift in packing", "weekly call ✓"])),
    ("RectificationPlanOpened", 1, dict(event_id=U % 26, source="erp", occurred_at="2026-06-02T23:59:59.999Z", supplier_id="SUP-00042", plan_id="P" * 64, indicator="c_" + "x" * 62, window_days=365, target=-1e300, due_date="2026-06-03", trigger_alert_id=None, owner="o" * 128, measures=[])),
    ("RectificationProgressReported", 1, dict(event_id=U % 27, source="api:acme", occurred_at="2026-06-20T08:00:00.000Z", supplier_id="SUP-00042", plan_id="PLAN-7", percent_complete=100, note="done\nall lines")),
    ("RectificationPlanClosed", 1, dict(event_id=U % 28, source="api:alice", occurred_at="2026-07-01T08:00:00.000Z", supplier_id="SUP-00042", plan_id="PLAN-7", reason="COMPLETED", note=None)),
    ("SupplierStatusDecided", 1, dict(event_id=U % 29, source="api:root", occurred_at="2026-06-03T08:00:00.000Z", supplier_id="SUP-00042", status="SUSPENDED", reason="two failed plans", decided_by="P-0001", valid_until="2026-12-31")),
    ("RectificationPlanReviewed", 1, dict(event_id=U % 30, supplier_id="SUP-00042", plan_id="PLAN-7", indicator="otif_rate", window_days=30, target=0.92, value=None, outcome="UNVERIFIABLE", due_date="2026-08-01", policy_version="scoring-v2-default")),
    ("SupplierStatusChanged", 1, dict(event_id=U % 31, supplier_id="SUP-00042", from_status=None, to_status="BLACKLISTED", effective_date="2026-06-03", reason="expired:" + U % 29)),
    ("SupplierTierChanged", 1, dict(event_id=U % 16, supplier_id="SUP-00042", from_tier=None, to_tier="KEY", score=71.33333333333333, effective_date="2026-06-02", policy_version="2026.1")),
    # Corrections (v2): posting dates, a reversal.
    ("GoodsReceived", 3, dict(event_id=U % 32, source="sap-ewm", occurred_at="2026-03-21T02:30:00.000Z", supplier_id="SUP-00042", receipt_id="GR-88125", po_number="PO-2026-000117", line_number=1, quantity=12.5, site="plant-7", delivery_note=None, posting_date="2026-03-20")),
    ("GoodsReceived", 3, dict(event_id=U % 33, source="sap-ewm", occurred_at="2026-03-21T09:00:00.000Z", supplier_id="SUP-00042", receipt_id="GR-88125", po_number="PO-2026-000117", line_number=1, quantity=10.0, site="plant-7", delivery_note="DN-4472", posting_date=None)),
    ("InspectionCompleted", 2, dict(event_id=U % 34, source="qms-1", occurred_at="2026-03-22T23:30:00.000Z", supplier_id="SUP-00042", inspection_id="INSP-5521", receipt_id="GR-88123", po_number="PO-2026-000117", line_number=1, item_id="FAB-COT-140", inspected_quantity=200.0, defective_quantity=3.0, critical_defects=0, disposition="ACCEPTED", posting_date="2026-03-23")),
    ("GoodsReceiptReversed", 1, dict(event_id=U % 35, source="sap-ewm", occurred_at="2026-03-24T08:00:00.000Z", supplier_id="SUP-00042", receipt_id="GR-88124", reason="movement type 102: wrong line")),
]


def generate(out):
    out.mkdir(parents=True, exist_ok=True)
    catalog = load_catalog()
    manifest = []
    for n, (short, version, value) in enumerate(CASES):
        record = f"io.tierline.v1.{short}"
        writer = next(s for s in catalog if s["record"] == record and s["version"] == version)
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, writer["schema"], to_fastavro(writer["schema"], value))
        datum = buf.getvalue()
        # What a reader on the latest version sees: fastavro resolves it too.
        reader = latest(catalog, record)
        resolved = fastavro.schemaless_reader(io.BytesIO(datum), writer["schema"], reader["schema"])
        expected = to_tierline_json(short, resolved)
        for framing in ("confluent", "single-object"):
            name = f"{n:02d}-{short}.v{version}.{framing}.bin"
            (out / name).write_bytes(frame(framing, writer, datum))
            manifest.append(dict(file=name, framing=framing, schema_id=writer["id"], fingerprint=f"{writer['fingerprint']:016x}", schema_version=version, expected=expected))
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {len(manifest)} vectors to {out}")


def verify(d):
    catalog = load_catalog()
    by_id = {s["id"]: s for s in catalog}
    by_fp = {s["fingerprint"]: s for s in catalog}
    manifest = json.loads((d / "manifest.json").read_text())
    passed = failed = 0
    for case in manifest:
        data = (d / case["file"]).read_bytes()
        try:
            if data[0] == 0:
                writer = by_id[struct.unpack(">I", data[1:5])[0]]
                datum = data[5:]
            elif data[:2] == b"\xc3\x01":
                writer = by_fp[struct.unpack("<Q", data[2:10])[0]]
                datum = data[10:]
            else:
                raise ValueError(f"unknown framing byte {data[0]:#x}")
            reader = latest(catalog, writer["record"])
            stream = io.BytesIO(datum)
            value = fastavro.schemaless_reader(stream, writer["schema"], reader["schema"])
            if stream.tell() != len(datum):
                raise ValueError(f"{len(datum) - stream.tell()} trailing bytes")
            short = writer["record"].rsplit(".", 1)[1]
            got = to_tierline_json(short, value)
            if got != case["expected"]:
                raise ValueError(f"decoded {got}\n  expected {case['expected']}")
            passed += 1
        except Exception as e:  # report every case, then fail
            failed += 1
            print(f"FAIL {case['file']}: {e}")
    print(f"fastavro: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("generate", "verify"):
        raise SystemExit(__doc__)
    target = pathlib.Path(sys.argv[2])
    sys.exit(generate(target) if sys.argv[1] == "generate" else verify(target))

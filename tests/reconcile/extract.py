"""An ERP-style extract computed independently from a raw stream, for the
reconciliation test: per PO line, receipt and inspection, the numerators and
denominators docs/scoring.md defines, with the corrections of its "Corrections"
section (latest record per business id, reversals, posting dates, countable units).
Plain Python on Tierline's JSON form of the records; no Tierline code.

    extract.py STREAM.jsonl SUPPLIER FROM TO [--countable UNIT ...]
               [--tolerance 0.02] [--grace 0]

Writes CSV to standard output: indicator,date,object_type,object_id,numerator,denominator
"""
import csv, datetime, json, math, sys


def arg(name, default):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def key(r):
    # The ordering key: occurred_at (fixed-width RFC 3339, UTC), event_id, source.
    return (r["occurred_at"], r["event_id"].lower(), r["source"])


def day(r):
    return r.get("posting_date") or r["occurred_at"][:10]


def plus(d, n):
    return (datetime.date.fromisoformat(d) + datetime.timedelta(days=n)).isoformat()


def days_between(a, b):
    return (datetime.date.fromisoformat(a) - datetime.date.fromisoformat(b)).days


def main():
    path, supplier, start, end = sys.argv[1:5]
    countable = None
    if "--countable" in sys.argv:
        i = sys.argv.index("--countable") + 1
        countable = set()
        while i < len(sys.argv) and not sys.argv[i].startswith("--"):
            countable.add(sys.argv[i])
            i += 1
    tolerance = float(arg("--tolerance", "0.02"))
    grace = int(arg("--grace", "0"))
    seen, records = set(), []
    for line in open(path):
        r = json.loads(line)
        if r.get("supplier_id") != supplier or (r["source"], r["event_id"]) in seen:
            continue
        seen.add((r["source"], r["event_id"]))
        records.append(r)
    by_type = {}
    for r in records:
        by_type.setdefault(r["type"], []).append(r)
    of = lambda t: by_type.get(t, [])

    lines = {}
    for t in ("PurchaseOrderLinePlaced", "PurchaseOrderLineConfirmed", "PurchaseOrderLineChanged", "PurchaseOrderLineCancelled"):
        for r in of(t):
            lines.setdefault((r["po_number"], r["line_number"]), {}).setdefault(t, []).append(r)
    placed = {k: min(v["PurchaseOrderLinePlaced"], key=key) for k, v in lines.items() if v.get("PurchaseOrderLinePlaced")}

    def counts(line):
        return countable is None or line not in placed or placed[line]["unit_of_measure"] in countable

    # Receipts: the latest record per receipt id, unless reversed.
    reversed_ids = {r["receipt_id"] for r in of("GoodsReceiptReversed")}
    latest = {}
    for r in of("GoodsReceived"):
        if r["receipt_id"] not in latest or key(r) > key(latest[r["receipt_id"]]):
            latest[r["receipt_id"]] = r
    receipts = [r for rid, r in latest.items() if rid not in reversed_ids]

    rows = []
    for line, p in placed.items():
        events = lines[line]
        if events.get("PurchaseOrderLineCancelled"):
            continue
        changes = sorted(events.get("PurchaseOrderLineChanged", []), key=key)
        with_date = [c for c in changes if c.get("requested_date")]
        c_at = with_date[-1]["occurred_at"] if with_date else None
        requested = with_date[-1]["requested_date"] if with_date else p["requested_date"]
        promises = [(key(c), c["promised_date"]) for c in events.get("PurchaseOrderLineConfirmed", [])]
        if p.get("promised_date"):
            promises.append((key(p), p["promised_date"]))
        promises.sort()
        due = next((d for k, d in promises if c_at is None or k[0] >= c_at), requested)
        deadline = plus(due, grace)
        ordered = next((c["quantity"] for c in reversed(changes) if c.get("quantity") is not None), p["quantity"])
        mine = [r for r in receipts if (r["po_number"], r["line_number"]) == line]
        received = math.fsum(r["quantity"] for r in mine if day(r) <= deadline)
        on_time = 1.0 if received >= ordered * (1.0 - tolerance) else 0.0
        rows.append(("otif_rate", deadline, "line", f"{line[0]}/{line[1]}", on_time, 1.0))
        if counts(line):
            for r in mine:
                late = float(max(0, days_between(day(r), deadline)))
                rows.append(("avg_days_late", day(r), "receipt", r["receipt_id"], late * r["quantity"], r["quantity"]))
    for r in receipts:
        if counts((r["po_number"], r["line_number"])):
            rows.append(("return_rate_ppm", day(r), "receipt", r["receipt_id"], 0.0, r["quantity"]))

    # Inspections: the latest record per inspection id.
    latest = {}
    for r in of("InspectionCompleted"):
        if r["inspection_id"] not in latest or key(r) > key(latest[r["inspection_id"]]):
            latest[r["inspection_id"]] = r
    score = {"ACCEPTED": 1.0, "CONDITIONALLY_ACCEPTED": 0.5, "REJECTED": 0.0}
    for iid, r in latest.items():
        named = (r.get("po_number"), r.get("line_number"))
        if None in named or counts(named):
            rows.append(("defect_ppm", day(r), "inspection", iid, r["defective_quantity"], r["inspected_quantity"]))
        rows.append(("lot_acceptance_rate", day(r), "inspection", iid, score[r["disposition"]], 1.0))

    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["indicator", "date", "object_type", "object_id", "numerator", "denominator"])
    for row in sorted(rows):
        if start <= row[1] <= end:
            out.writerow([row[0], row[1], row[2], row[3], repr(row[4]), repr(row[5])])


if __name__ == "__main__":
    main()

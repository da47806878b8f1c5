"""Validates what can be validated of deploy/ and docker-compose.yml without a cluster.

- YAML and JSON files parse; the Helm templates' actions are balanced.
- deploy/asyncapi.yaml validates against the official AsyncAPI 3.0.0 JSON schema
  (@asyncapi/specs 6.11.1 from npm, tests/deploy/asyncapi-3.0.0.schema.json); every
  local $ref resolves; every Avro file it names exists; its topics are Tierline's.
- The Prometheus rules name metrics the services export.
- The Grafana dashboard queries name tables the migrations create.

Usage: python tests/deploy/check.py  (exit 0 when everything holds)
"""
import json, os, re, sys

import jsonschema
import yaml

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
errors = []


def check(cond, msg):
    if not cond:
        errors.append(msg)


def load_yaml(rel):
    with open(os.path.join(ROOT, rel)) as f:
        return yaml.safe_load(f)


def read(rel):
    with open(os.path.join(ROOT, rel)) as f:
        return f.read()


# docker-compose: services wired with health checks.
compose = load_yaml("docker-compose.yml")
services = compose["services"]
for s in ["postgres", "kafka", "migrate", "ingest", "project", "relay", "serve"]:
    check(s in services, f"docker-compose.yml: no service {s}")
for s in ["ingest", "project", "relay", "serve"]:
    check("healthcheck" in services.get(s, {}), f"docker-compose.yml: {s} has no healthcheck")
    check(services.get(s, {}).get("command", [None])[0] == s, f"docker-compose.yml: {s} does not run `tierline {s}`")

# Helm chart: YAML files parse, templates balance their actions.
chart = load_yaml("deploy/helm/tierline/Chart.yaml")
check(chart.get("apiVersion") == "v2" and chart.get("name") == "tierline", "Chart.yaml: bad apiVersion/name")
values = load_yaml("deploy/helm/tierline/values.yaml")
check(set(values["services"]) == {"ingest", "project", "relay", "serve"}, "values.yaml: services")
tdir = os.path.join(ROOT, "deploy/helm/tierline/templates")
kinds = set()
for name in sorted(os.listdir(tdir)):
    text = read(os.path.join("deploy/helm/tierline/templates", name))
    check(text.count("{{") == text.count("}}"), f"{name}: unbalanced template actions")
    opened = len(re.findall(r"{{-?\s*(if|range|with|define)\b", text))
    closed = len(re.findall(r"{{-?\s*end\b", text))
    check(opened == closed, f"{name}: {opened} blocks opened, {closed} closed")
    kinds.update(re.findall(r"^kind:\s*(\w+)", text, re.M))
for k in ["Deployment", "Service", "ConfigMap", "Secret", "ServiceMonitor", "Job", "PodDisruptionBudget"]:
    check(k in kinds, f"Helm chart has no {k}")
deploy = read("deploy/helm/tierline/templates/deployments.yaml")
check("livenessProbe" in deploy and "readinessProbe" in deploy, "deployments: probes missing")
# Upgrades: single-instance services stop before their successor starts; the others
# roll and keep a pod through a drain.
check("$svc.strategy" in deploy, "deployments: no strategy from values")
for s in ["project", "relay"]:
    check(values["services"][s].get("strategy") == "Recreate", f"values.yaml: {s} must deploy with Recreate")
    check(not values["services"][s].get("minAvailable"), f"values.yaml: {s} is single-instance: no disruption budget")
for s in ["ingest", "serve"]:
    svc = values["services"][s]
    check(svc.get("minAvailable", 0) >= 1 and svc["replicas"] > svc["minAvailable"], f"values.yaml: {s} needs a budget below its replicas")

# AsyncAPI 3.0.0: the official schema, local refs, Avro files, topics.
asyncapi = load_yaml("deploy/asyncapi.yaml")
with open(os.path.join(ROOT, "tests/deploy/asyncapi-3.0.0.schema.json")) as f:
    schema = json.load(f)
try:
    jsonschema.validate(asyncapi, schema)
except jsonschema.ValidationError as e:
    errors.append(f"asyncapi.yaml does not validate: {e.message} at {list(e.absolute_path)}")


def walk(node, path=""):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                if v.startswith("#/"):
                    cur = asyncapi
                    for part in v[2:].split("/"):
                        if not isinstance(cur, dict) or part not in cur:
                            errors.append(f"asyncapi.yaml: {path}: {v} does not resolve")
                            break
                        cur = cur[part]
                else:
                    target = os.path.normpath(os.path.join(ROOT, "deploy", v))
                    check(os.path.exists(target), f"asyncapi.yaml: {path}: {v} does not exist")
            else:
                walk(v, f"{path}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk(v, f"{path}/{i}")


walk(asyncapi)
topics = {c["address"] for c in asyncapi["channels"].values()}
check(topics == {"srm.purchase-orders.v1", "srm.deliveries.v1", "srm.inspections.v1", "srm.after-sales.v1",
                 "srm.assessments.v1", "srm.supplier-actions.v1", "srm.supplier-alerts.v1", "srm.dead-letter.v1"}, f"asyncapi.yaml topics: {sorted(topics)}")
catalog = json.loads(read("schemas/catalog.json"))
records = {s["record"].split(".")[-1] for s in catalog["schemas"]}
check(set(asyncapi["components"]["messages"]) - {"DeadLetter"} == records, "asyncapi.yaml: messages differ from schemas/catalog.json")

# Prometheus rules: parse, and name exported metrics.
rules = load_yaml("deploy/prometheus/alerts.yaml")
exported = set()
for crate, prefix in [("tierline-ingest", "tierline_ingest"), ("tierline-projector", "tierline"), ("tierline-relay", "tierline"), ("tierline-api", "tierline_api")]:
    src = "".join(read(os.path.join("crates", crate, "src", f)) for f in os.listdir(os.path.join(ROOT, "crates", crate, "src")) if f.endswith(".rs"))
    for m in re.findall(r'register\(\s*"(\w+)"', src):
        exported.add(f"{prefix}_{m}")
for g in rules["groups"]:
    for r in g["rules"]:
        for name in re.findall(r"\b(tierline_[a-z_]+)", r["expr"]):
            base = re.sub(r"_(total|bucket|sum|count)$", "", name)
            check(base in exported, f"alerts.yaml {r['alert']}: {name} is not exported (known: {sorted(exported)})")

# Grafana: JSON, and the tables it queries exist.
dash = json.loads(read("deploy/grafana/tierline.json"))
migrations = "".join(read(os.path.join(d, f)) for d in ["crates/tierline-store/migrations/postgres", "crates/tierline-projections/migrations/postgres"]
                     for f in os.listdir(os.path.join(ROOT, d)))
tables = set(re.findall(r"CREATE TABLE (\w+)", migrations))
for p in dash["panels"]:
    for t in p["targets"]:
        for table in re.findall(r"\bFROM (\w+)", t["rawSql"]):
            check(table in tables, f"grafana panel {p['title']!r}: table {table} does not exist")

if errors:
    print("\n".join(errors))
    sys.exit(1)
print("deploy/ and docker-compose.yml: all checks passed")

#!/usr/bin/env python3
"""Queries behind deploy/prometheus/check-live.sh (Python 3 standard library only).

  live_check.py dashboard-static DASHBOARD.json
      Every PromQL expression of the Grafana dashboard (panels, rows, template variables) is found, every panel and
      target uses the ${datasource} variable, and the variables the expressions use are defined. Prints the count.
  live_check.py dashboard-rules DASHBOARD.json OUT.yml
      Writes every dashboard expression (variables substituted with placeholders) as a recording rule, so that
      `promtool check rules OUT.yml` checks their PromQL syntax without a running Prometheus.
  live_check.py targets PROM_URL JOB COUNT DEADLINE_S [any-health]
      Waits until Prometheus has COUNT active targets of JOB and all of them are up (with any-health: all of them
      were scraped, up or not; for development runs without /metrics only).
  live_check.py dashboard-live PROM_URL DASHBOARD.json DEADLINE_S VAR=VALUE...
      Every dashboard expression, with its variables substituted, returns a non-empty result (retried until the
      deadline, since rate() windows need a few scrapes). label_values(METRIC, LABEL) variable queries must return
      the given value.
  live_check.py fired PROM_URL DEADLINE_S INSTANCE ALERT...
      Waits until the expression of each named alert rule, as Prometheus loaded it from alerts.yml, returns a result
      (for SluiceBrokerDown: one naming INSTANCE) and the alert is pending or firing.

Exit code 0 on success, 1 with a message naming what failed.
"""

import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

# Expressions over counters that only exist after an event which a healthy run does not produce. They must still
# be valid PromQL (the query is run and must not error), but may return nothing.
EVENT_DRIVEN = re.compile(r"\bsluice_produce_errors_total\b")

# Grafana's built-in interval variables, as Grafana would expand them for a 30 minute view of a 5 s scrape.
BUILTINS = {"__rate_interval": "1m", "__interval": "15s", "__range": "30m"}

VAR_REF = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)")
LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(.+?)\s*,\s*(\w+)\s*\)\s*$")


def die(msg):
    print("live_check: " + msg, file=sys.stderr)
    sys.exit(1)


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        die(f"cannot read dashboard {path}: {e}")


def walk_panels(panels):
    for p in panels:
        yield p
        yield from walk_panels(p.get("panels", []))


def expressions(dash):
    """(where, expr) for every panel target."""
    out = []
    for p in walk_panels(dash.get("panels", [])):
        for t in p.get("targets", []):
            expr = t.get("expr", "")
            if expr.strip():
                out.append((f"panel '{p.get('title')}' target {t.get('refId')}", expr))
    return out


def variable_queries(dash):
    """(name, metric selector, label) for every label_values() query variable."""
    out = []
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") != "query":
            continue
        q = v.get("query")
        q = q.get("query", "") if isinstance(q, dict) else (q or "")
        m = LABEL_VALUES.match(q)
        if not m:
            die(f"variable '{v.get('name')}': only label_values(METRIC, LABEL) queries are checked, got {q!r}")
        out.append((v["name"], m.group(1), m.group(2)))
    return out


def referenced_vars(expr):
    return {a or b for a, b in VAR_REF.findall(expr)}


def substitute(expr, values):
    def repl(m):
        name = m.group(1) or m.group(2)
        if name not in values:
            die(f"no value for variable ${name} in {expr!r}")
        return values[name]

    return VAR_REF.sub(repl, expr)


def cmd_dashboard_static(path):
    dash = load(path)
    exprs = expressions(dash)
    if not exprs:
        die("the dashboard has no PromQL expression")
    defined = {v["name"] for v in dash.get("templating", {}).get("list", [])} | set(BUILTINS)
    if "datasource" not in defined:
        die("the dashboard has no 'datasource' variable")
    problems = []
    for p in walk_panels(dash.get("panels", [])):
        if p.get("type") == "row":
            continue
        where = f"panel '{p.get('title')}'"
        if p.get("datasource", {}).get("uid") != "${datasource}":
            problems.append(f"{where}: datasource is {p.get('datasource')}, expected uid ${{datasource}}")
        for t in p.get("targets", []):
            if t.get("datasource", {}).get("uid") != "${datasource}":
                problems.append(f"{where} target {t.get('refId')}: datasource is not ${{datasource}}")
    for where, expr in exprs:
        for name in referenced_vars(expr) - defined:
            problems.append(f"{where}: undefined variable ${name} in {expr!r}")
    variable_queries(dash)
    if problems:
        die("dashboard problems:\n  " + "\n  ".join(problems))
    print(f"dashboard: {len(exprs)} PromQL expressions, {len(variable_queries(dash))} query variables, "
          "datasource ${datasource} everywhere")


def cmd_dashboard_rules(path, out):
    dash = load(path)
    values = dict(BUILTINS)
    for v in dash.get("templating", {}).get("list", []):
        values.setdefault(v["name"], "placeholder")
    lines = ["groups:", "  - name: sluice_dashboard_syntax", "    rules:"]
    for i, (where, expr) in enumerate(expressions(dash)):
        lines.append(f"      - record: dashboard_expr_{i}")
        lines.append("        expr: " + json.dumps(substitute(expr, values)))
    for name, selector, label in variable_queries(dash):
        lines.append(f"      - record: dashboard_variable_{name}")
        lines.append("        expr: " + json.dumps(f"group by ({label}) ({selector})"))
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def api(prom, path, params=None):
    url = prom.rstrip("/") + path
    if params:
        url += "?" + urllib.parse.urlencode(params)
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            body = json.load(r)
    except urllib.error.HTTPError as e:
        try:
            body = json.load(e)
        except ValueError:
            raise RuntimeError(f"{path}: HTTP {e.code}") from e
        raise RuntimeError(f"{path}: HTTP {e.code}: {body.get('error', body)}") from e
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise RuntimeError(f"{path}: {e}") from e
    if body.get("status") != "success":
        raise RuntimeError(f"{path}: {body.get('errorType')}: {body.get('error')}")
    return body["data"]


def query(prom, expr):
    data = api(prom, "/api/v1/query", {"query": expr})
    return data["result"] if data["resultType"] in ("vector", "matrix") else [data["result"]]


def cmd_targets(prom, job, count, deadline_s, any_health=False):
    deadline = time.monotonic() + deadline_s
    last = "no answer"
    while True:
        try:
            active = [t for t in api(prom, "/api/v1/targets", {"state": "active"})["activeTargets"]
                      if t["labels"].get("job") == job]
            states = {t["labels"]["instance"]: (t["health"], t.get("lastError", "")) for t in active}
            last = ", ".join(f"{i}={h}{' (' + e + ')' if e else ''}" for i, (h, e) in sorted(states.items()))
            scraped = all(h != "unknown" for h, _ in states.values()) if any_health else False
            if len(active) == count and (scraped or all(h == "up" for h, _ in states.values())):
                print(f"targets: {last}")
                return
        except RuntimeError as e:
            last = str(e)
        if time.monotonic() > deadline:
            die(f"after {deadline_s}s, expected {count} targets of job {job} all up; got: {last}")
        time.sleep(1)


def cmd_dashboard_live(prom, path, deadline_s, assignments):
    dash = load(path)
    values = dict(BUILTINS)
    for a in assignments:
        k, _, v = a.partition("=")
        values[k] = v
    checks = []
    for name, selector, label in variable_queries(dash):
        checks.append((f"variable ${name}", f"group by ({label}) ({selector})", name, label))
    for where, expr in expressions(dash):
        checks.append((where, substitute(expr, values), None, None))
    deadline = time.monotonic() + deadline_s
    pending = list(checks)
    allowed_empty = []
    while True:
        still, errors = [], []
        for c in pending:
            where, expr, var, label = c
            try:
                result = query(prom, expr)
            except RuntimeError as e:
                errors.append(f"{where}: {expr}\n      query failed: {e}")
                continue
            if var is not None:
                got = sorted({r["metric"].get(label, "") for r in result})
                if values.get(var) not in got:
                    still.append((c, f"{where}: {expr}\n      values {got}, expected to include {values.get(var)!r}"))
            elif not result:
                if EVENT_DRIVEN.search(expr):
                    allowed_empty.append(where)
                else:
                    still.append((c, f"{where}: {expr}\n      empty result"))
        if errors:
            die("invalid dashboard expressions:\n  " + "\n  ".join(errors))
        if not still:
            break
        if time.monotonic() > deadline:
            die(f"{len(still)} of {len(checks)} dashboard expressions still return nothing after {deadline_s}s:\n  "
                + "\n  ".join(m for _, m in still))
        pending = [c for c, _ in still]
        allowed_empty = []
        time.sleep(3)
    print(f"dashboard: {len(checks)} expressions and variable queries return data")
    for where in allowed_empty:
        print(f"dashboard: {where} is empty, allowed: it counts events (errors) that this healthy run never has")


def cmd_fired(prom, deadline_s, instance, alerts):
    rules = {}
    for g in api(prom, "/api/v1/rules", {"type": "alert"})["groups"]:
        for r in g["rules"]:
            rules[r["name"]] = r["query"]
    for a in alerts:
        if a not in rules:
            die(f"alert rule {a} is not loaded by Prometheus (loaded: {sorted(rules)})")
    deadline = time.monotonic() + deadline_s
    pending = list(alerts)
    report = {}
    while True:
        states = {}
        try:
            for al in api(prom, "/api/v1/alerts")["alerts"]:
                name = al["labels"].get("alertname")
                states.setdefault(name, set()).add(al["state"])
        except RuntimeError as e:
            states = {}
            report["/api/v1/alerts"] = str(e)
        still = []
        for a in pending:
            try:
                result = query(prom, rules[a])
            except RuntimeError as e:
                die(f"alert {a}: its expression {rules[a]!r} fails: {e}")
            if a == "SluiceBrokerDown":
                result = [r for r in result if r["metric"].get("instance") == instance]
            st = states.get(a, set())
            if result and st & {"pending", "firing"}:
                print(f"alert {a}: expression true ({len(result)} series), alert {'/'.join(sorted(st))}")
            else:
                still.append(a)
                report[a] = f"expression {rules[a]!r} returned {len(result)} series, alert state {sorted(st) or 'none'}"
        pending = still
        if not pending:
            return
        if time.monotonic() > deadline:
            die(f"after {deadline_s}s these alerts did not fire:\n  "
                + "\n  ".join(f"{a}: {report[a]}" for a in pending))
        time.sleep(2)


def main(argv):
    if len(argv) >= 2 and argv[0] == "dashboard-static":
        cmd_dashboard_static(argv[1])
    elif len(argv) == 3 and argv[0] == "dashboard-rules":
        cmd_dashboard_rules(argv[1], argv[2])
    elif len(argv) in (5, 6) and argv[0] == "targets":
        cmd_targets(argv[1], argv[2], int(argv[3]), int(argv[4]), argv[5:] == ["any-health"])
    elif len(argv) >= 4 and argv[0] == "dashboard-live":
        cmd_dashboard_live(argv[1], argv[2], int(argv[3]), argv[4:])
    elif len(argv) >= 5 and argv[0] == "fired":
        cmd_fired(argv[1], int(argv[2]), argv[3], argv[4:])
    else:
        die("usage: see the docstring of " + __file__)


if __name__ == "__main__":
    main(sys.argv[1:])

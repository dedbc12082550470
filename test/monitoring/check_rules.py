#!/usr/bin/python3
"""What promtool does not check about deploy/monitoring/rules.yml:

- every alert is named AWSAccountOperator..., has a severity label and the
  summary, description and runbook_url annotations;
- every runbook_url points to docs/operations.md at a heading that exists
  there (GitHub's anchor of the heading);
- every alert is tested by test/monitoring/*.test.yml both firing (a
  non-empty exp_alerts) and not firing (an empty one), and no test names
  an alert that does not exist.

    test/monitoring/check_rules.py      # exit 1 with one line per problem
"""
import glob
import os
import re
import sys

import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RULES = os.path.join(REPO, "deploy", "monitoring", "rules.yml")
RUNBOOKS = os.path.join(REPO, "docs", "operations.md")
TESTS = os.path.join(REPO, "test", "monitoring", "*.test.yml")
SEVERITIES = ("critical", "warning", "info")


def anchors(markdown):
    """GitHub's anchors of the headings of a Markdown text."""
    out = set()
    for line in markdown.splitlines():
        m = re.match(r"#{1,6}\s+(.*)", line)
        if m:
            slug = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower())
            out.add(slug.replace(" ", "-"))
    return out


def alerts(rules):
    return [r for g in rules["groups"] for r in g["rules"] if "alert" in r]


def rule_problems(rule, heads):
    name, p = rule["alert"], []
    if not name.startswith("AWSAccountOperator"):
        p.append("%s: not prefixed AWSAccountOperator" % name)
    if rule.get("labels", {}).get("severity") not in SEVERITIES:
        p.append("%s: severity label missing or not one of %s" % (name, SEVERITIES))
    ann = rule.get("annotations", {})
    for key in ("summary", "description", "runbook_url"):
        if not str(ann.get(key, "")).strip():
            p.append("%s: annotation %s missing" % (name, key))
    url = str(ann.get("runbook_url", ""))
    doc, _, anchor = url.partition("#")
    if not doc.endswith("docs/operations.md") or anchor not in heads:
        p.append("%s: runbook_url %r is not a heading of docs/operations.md" % (name, url))
    return p


def tested(test_files):
    """{alert: {"firing", "quiet"}} over every alert_rule_test."""
    seen = {}
    for path in test_files:
        with open(path) as f:
            doc = yaml.safe_load(f)
        for t in doc.get("tests", []):
            for a in t.get("alert_rule_test", []):
                kind = "firing" if a.get("exp_alerts") else "quiet"
                seen.setdefault(a["alertname"], set()).add(kind)
    return seen


def problems():
    with open(RULES) as f:
        rules = yaml.safe_load(f)
    with open(RUNBOOKS) as f:
        heads = anchors(f.read())
    names = [r["alert"] for r in alerts(rules)]
    out = []
    if len(set(names)) != len(names):
        out.append("duplicate alert names in %s" % RULES)
    for r in alerts(rules):
        out += rule_problems(r, heads)
    files = sorted(glob.glob(TESTS))
    if not files:
        out.append("no test files match %s" % TESTS)
    seen = tested(files)
    for n in names:
        for kind in ("firing", "quiet"):
            if kind not in seen.get(n, ()):
                out.append("%s: no promtool test where it is %s" % (n, kind))
    for n in sorted(set(seen) - set(names)):
        out.append("%s: tested but not defined in rules.yml" % n)
    return out, len(names)


def main():
    found, n = problems()
    for p in found:
        print("check_rules: " + p, file=sys.stderr)
    if not found:
        print("check_rules: %d alerts, each with runbook and tested firing and quiet" % n)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

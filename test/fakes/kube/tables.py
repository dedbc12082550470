"""Table output (Accept: application/json;as=Table;v=v1;g=meta.k8s.io), what
kubectl get prints: CRD additionalPrinterColumns through simple JSONPaths,
Name/Age for built-ins."""

import datetime
import json
import re

from .common import human_duration, parse_ts


_JP_TOKEN = re.compile(r"\.([A-Za-z0-9_\-$@]+)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")


def eval_jsonpath(obj, path):
    path = path.strip()
    if path.startswith("{") and path.endswith("}"):
        path = path[1:-1]
    if path.startswith("$"):
        path = path[1:]
    cur = obj
    pos = 0
    while pos < len(path):
        m = _JP_TOKEN.match(path, pos)
        if not m:
            return None
        pos = m.end()
        key = m.group(1) or m.group(3) or m.group(4)
        if m.group(2) is not None:
            if not isinstance(cur, list):
                return None
            i = int(m.group(2))
            if i >= len(cur):
                return None
            cur = cur[i]
        else:
            if not isinstance(cur, dict) or key not in cur:
                return None
            cur = cur[key]
    return cur


NAME_COL = {"name": "Name", "type": "string", "format": "name", "priority": 0,
            "description": "Name must be unique within a namespace. Is required when creating "
            "resources, although some resources may allow a client to request the generation "
            "of an appropriate name automatically. Name is primarily intended for creation "
            "idempotence and configuration definition. Cannot be updated. More info: "
            "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"}


def table_columns(rt, version):
    if rt.builtin:
        if rt.key == ("apiextensions.k8s.io", "customresourcedefinitions"):
            return [{"name": "Created At", "type": "date", "format": "", "priority": 0,
                     "description": "", "jsonPath": ".metadata.creationTimestamp",
                     "_raw": True}]
        return [{"name": "Age", "type": "string", "format": "", "priority": 0,
                 "description": "CreationTimestamp is a timestamp representing the server time "
                 "when this object was created.", "jsonPath": ".metadata.creationTimestamp",
                 "_age": True}]
    cols = rt.columns.get(version) or []
    if not cols:
        cols = [{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]
    return cols


def table_cell(col, obj):
    v = eval_jsonpath(obj, col.get("jsonPath", ""))
    if v is None:
        return None
    t = col.get("type")
    if col.get("_raw"):
        return v
    if t == "date" or col.get("_age"):
        ts = parse_ts(v) if isinstance(v, str) else None
        if ts is None:
            return "<unknown>"
        return human_duration((datetime.datetime.now(datetime.timezone.utc) - ts)
                              .total_seconds())
    if t == "integer" and isinstance(v, (int, float)) and not isinstance(v, bool):
        return int(v)
    if t == "number" and isinstance(v, (int, float)) and not isinstance(v, bool):
        return v
    if t == "boolean" and isinstance(v, bool):
        return v
    if isinstance(v, (dict, list)):
        return json.dumps(v, separators=(",", ":"))
    if isinstance(v, bool):
        return "true" if v else "false"
    return v if isinstance(v, str) else str(v)


def build_table(rt, version, objs, rv, include, cont=None, remaining=None):
    cols = table_columns(rt, version)
    defs = [NAME_COL] + [{"name": c["name"], "type": c.get("type", "string"),
                          "format": c.get("format", ""),
                          "description": c.get("description", ""),
                          "priority": int(c.get("priority", 0))} for c in cols]
    rows = []
    for o in objs:
        row = {"cells": [o["metadata"]["name"]] + [table_cell(c, o) for c in cols]}
        if include == "Object":
            row["object"] = o
        elif include != "None":
            row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                             "metadata": o["metadata"]}
        rows.append(row)
    md = {"resourceVersion": str(rv)}
    if cont:
        md["continue"] = cont
    if remaining:
        md["remainingItemCount"] = remaining
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": md,
            "columnDefinitions": defs, "rows": rows}


def _accepts_table(accept):
    for part in (accept or "").split(","):
        p = part.replace(" ", "")
        if "as=Table" in p and "g=meta.k8s.io" in p:
            return True
    return False

"""Label selectors (= == != in notin exists !key) and field selectors
(metadata.name, metadata.namespace, a few per built-in kind, a CRD's
selectableFields)."""

import re

from .common import DNS1123_SUB, LABEL_NAME, bad_request


_LSEL_TOKEN = re.compile(r"\s*(!=|==|=|\(|\)|,|!|[^\s!=(),]+)")


class LabelSelector:
    """Parsed label selector: list of (key, op, values)."""

    def __init__(self, text):
        self.reqs = []
        text = (text or "").strip()
        if not text:
            return
        toks = []
        pos = 0
        while pos < len(text):
            m = _LSEL_TOKEN.match(text, pos)
            if not m or m.end() == pos:
                break
            toks.append(m.group(1))
            pos = m.end()
            if pos < len(text) and text[pos:].strip() == "":
                break
        i = 0

        def err(msg="unable to parse requirement"):
            return bad_request("unable to parse requirement: %s: %r" % (msg, text))

        while i < len(toks):
            if toks[i] == "!":
                if i + 1 >= len(toks):
                    raise err()
                self.reqs.append((toks[i + 1], "!", None))
                i += 2
            else:
                key = toks[i]
                if not _valid_label_key(key):
                    raise err("invalid label key")
                i += 1
                if i >= len(toks) or toks[i] == ",":
                    self.reqs.append((key, "exists", None))
                elif toks[i] in ("=", "==", "!="):
                    op = "!=" if toks[i] == "!=" else "="
                    if i + 1 < len(toks) and toks[i + 1] not in (",", "(", ")"):
                        val = toks[i + 1]
                        i += 2
                    else:
                        val = ""
                        i += 1
                    self.reqs.append((key, op, val))
                elif toks[i] in ("in", "notin"):
                    op = toks[i]
                    if i + 1 >= len(toks) or toks[i + 1] != "(":
                        raise err("expected (")
                    i += 2
                    vals = []
                    while i < len(toks) and toks[i] != ")":
                        if toks[i] != ",":
                            vals.append(toks[i])
                        i += 1
                    if i >= len(toks):
                        raise err("expected )")
                    i += 1
                    self.reqs.append((key, op, set(vals)))
                elif toks[i].startswith(">") or toks[i].startswith("<"):
                    raise err()
                else:
                    # key>N / key<N tokenised together
                    raise err()
            if i < len(toks):
                if toks[i] != ",":
                    raise err("expected ,")
                i += 1

    def empty(self):
        return not self.reqs

    def matches(self, labels):
        labels = labels or {}
        for key, op, val in self.reqs:
            has = key in labels
            if op == "exists" and not has:
                return False
            if op == "!" and has:
                return False
            if op == "=" and (not has or labels[key] != val):
                return False
            if op == "!=" and has and labels[key] == val:
                return False
            if op == "in" and (not has or labels[key] not in val):
                return False
            if op == "notin" and has and labels[key] in val:
                return False
        return True


def _valid_label_key(key):
    if "/" in key:
        prefix, name = key.split("/", 1)
        if not prefix or len(prefix) > 253 or not DNS1123_SUB.match(prefix):
            return False
    else:
        name = key
    return 0 < len(name) <= 63 and bool(LABEL_NAME.match(name))


def _valid_label_value(v):
    return isinstance(v, str) and (v == "" or (len(v) <= 63 and bool(LABEL_NAME.match(v))))


class FieldSelector:
    def __init__(self, text, allowed):
        self.reqs = []
        text = (text or "").strip()
        if not text:
            return
        for part in text.split(","):
            part = part.strip()
            if not part:
                continue
            m = re.match(r"^([^=!]+)(==|=|!=)(.*)$", part)
            if not m:
                raise bad_request("invalid selector: '%s'; can't understand '%s'" % (text, part))
            field, op, val = m.group(1).strip(), m.group(2), m.group(3).strip()
            if field not in allowed:
                raise bad_request('field label not supported: %s' % field)
            self.reqs.append((field, op != "!=", val))
        self.allowed = allowed

    def empty(self):
        return not self.reqs

    def matches(self, obj):
        for field, eq, val in self.reqs:
            actual = self.allowed[field](obj)
            actual = "" if actual is None else str(actual)
            if isinstance(self.allowed[field](obj), bool):
                actual = "true" if actual == "True" else "false"
            if (actual == val) != eq:
                return False
        return True


def _getpath(obj, path):
    cur = obj
    for p in path:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(p)
    return cur


def field_getters(rt):
    g = {"metadata.name": lambda o: _getpath(o, ["metadata", "name"]),
         "metadata.namespace": lambda o: _getpath(o, ["metadata", "namespace"])}
    extra = {
        ("", "secrets"): ["type"],
        ("", "namespaces"): ["status.phase"],
        ("", "events"): ["involvedObject.kind", "involvedObject.namespace",
                         "involvedObject.name", "involvedObject.uid",
                         "involvedObject.apiVersion", "involvedObject.resourceVersion",
                         "involvedObject.fieldPath", "reason", "reportingComponent",
                         "source", "type"],
        ("", "pods"): ["spec.nodeName", "status.phase", "spec.serviceAccountName"],
    }.get((rt.group, rt.plural), [])
    for f in extra + list(rt.selectable_fields):
        parts = f.lstrip(".").split(".")
        g[f.lstrip(".")] = (lambda ps: lambda o: _getpath(o, ps))(parts)
    return g

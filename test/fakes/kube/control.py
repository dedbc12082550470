"""The control API under /fake/ (fault and latency injection, dropped
watches, compaction, bulk creation, the request log, a state dump) and the
injected faults themselves, as a mixin of server.Handler."""

import copy
import json
import re
import time

from .common import ApiError, bad_request


class Control:
    """Mixin of Handler: /fake/ endpoints and the rules they install."""

    def apply_latency(self, method, path):
        delay = 0
        with self.fake.rules_lock:
            for r in list(self.fake.latency_rules):
                if r.get("method") and r["method"].upper() != method:
                    continue
                if r.get("path_regex") and not re.search(r["path_regex"], path):
                    continue
                delay = max(delay, r["ms"])
                if r.get("count") is not None:
                    r["count"] -= 1
                    if r["count"] <= 0:
                        self.fake.latency_rules.remove(r)
        if delay:
            time.sleep(delay / 1000.0)

    def match_fail(self, method, path, rawq):
        with self.fake.rules_lock:
            for r in self.fake.fail_rules:
                if r.get("method") and r["method"].upper() != method:
                    continue
                if r.get("path_regex") and not re.search(r["path_regex"], path):
                    continue
                if r.get("query_regex") and not re.search(r["query_regex"], rawq):
                    continue
                r["count"] -= 1
                if r["count"] <= 0:
                    self.fake.fail_rules.remove(r)
                return r
        return None

    # ---- control API

    def control(self, method, path, body):
        fake = self.fake
        try:
            data = json.loads(body) if body else {}
        except ValueError:
            raise bad_request("control body must be JSON")
        if path == "/fake/healthz":
            return self.send_text(200, "ok")
        if path == "/fake/drop-watches" and method == "POST":
            ws = list(fake.watches.values())
            for w in ws:
                w.drop()
            return self.send_json(200, {"dropped": len(ws)})
        if path == "/fake/watches" and method == "GET":
            return self.send_json(200, {"watches": [
                {"id": w.id, "path": w.path, "query": w.query, "since": w.since}
                for w in list(fake.watches.values())]})
        if path == "/fake/fail" and method == "POST":
            with fake.rules_lock:
                if data.get("clear"):
                    fake.fail_rules.clear()
                else:
                    rule = dict(data)
                    rule["count"] = int(rule.get("count", 1))
                    fake.fail_rules.append(rule)
            return self.send_json(200, {"rules": len(fake.fail_rules)})
        if path == "/fake/latency" and method == "POST":
            with fake.rules_lock:
                if data.get("clear") or not data.get("ms"):
                    fake.latency_rules.clear()
                else:
                    fake.latency_rules.append(dict(data))
            return self.send_json(200, {"rules": len(fake.latency_rules)})
        if path == "/fake/bulk-create" and method == "POST":
            return self.send_json(200, self.bulk_create(data))
        if path == "/fake/compact" and method == "POST":
            return self.send_json(200, {"horizon": str(fake.state.compact())})
        if path == "/fake/requests" and method == "GET":
            since = int(self.q.get("since") or 0)
            with fake.log_lock:
                out = [e for e in fake.log if e["seq"] > since]
                last = fake.log_seq
            return self.send_json(200, {"requests": out, "last": last})
        if path == "/fake/reset-log" and method == "POST":
            with fake.log_lock:
                fake.log.clear()
            return self.send_json(200, {"last": fake.log_seq})
        if path == "/fake/state" and method == "GET":
            st = fake.state
            with st.lock:
                dump = {"resourceVersion": str(st.rv), "horizon": str(st.horizon),
                        "history": len(st.history),
                        "counts": {rt.gr(): len(st.objs[rt.key]) for rt in st.types.values()},
                        "objects": {rt.gr(): list(st.objs[rt.key].values())
                                    for rt in st.types.values() if st.objs[rt.key]}}
            return self.send_json(200, dump)
        raise ApiError(404, "NotFound", "unknown control endpoint %s %s" % (method, path))

    def bulk_create(self, data):
        """count copies of template named prefix%05d, created as by POST (validated,
        watchers notified), without one HTTP round trip each."""
        st = self.fake.state
        rt = st.lookup(data.get("group", ""), data["version"], data["plural"])
        if rt is None:
            raise ApiError(404, "NotFound", "unknown resource %s" % data["plural"])
        prefix, created = data.get("prefix", "obj-"), 0
        status = data.get("status")
        for i in range(int(data.get("start", 0)), int(data.get("start", 0)) + int(data["count"])):
            obj = _numbered(data["template"], "%05d" % i)
            obj.setdefault("metadata", {})["name"] = "%s%05d" % (prefix, i)
            obj = st.create(rt, data.get("namespace"), obj)
            if status is not None:
                body = copy.deepcopy(obj)
                body["status"] = _numbered(status, "%05d" % i)
                st.update(rt, data.get("namespace"), body["metadata"]["name"], body,
                          sub="status")
            created += 1
        return {"created": created, "resourceVersion": str(st.rv)}


def _numbered(value, num):
    """A deep copy of value with "{i}" in every string replaced by num."""
    if isinstance(value, dict):
        return {k: _numbered(v, num) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbered(v, num) for v in value]
    if isinstance(value, str):
        return value.replace("{i}", num)
    return value

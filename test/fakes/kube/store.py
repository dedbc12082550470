"""The object store: one global resourceVersion, the objects of every kind,
the bounded event history, open watches, consistent list snapshots
(continue tokens) and the verbs (create, update, patch, delete, list).
Validation of bodies is in validation.py, the garbage collector in gc.py;
both are mixed into State."""

import base64
import json
import random
import threading
import time
import uuid
from collections import deque

from .common import ApiError, DNS1123_SUB, GEN_ALPHABET, bad_request, jcopy, now_ts
from .gc import GarbageCollector
from .patch import json_patch, merge_patch, strategic_merge_patch
from .resources import builtin_types
from .schema import _jv, invalid
from .validation import Validation


class Watcher:
    def __init__(self, wid, rkey, namespace, lsel, fsel, path, query):
        self.id, self.rkey, self.namespace = wid, rkey, namespace
        self.lsel, self.fsel = lsel, fsel
        self.path, self.query, self.since = path, query, time.time()
        self.cond = threading.Condition()
        self.queue = deque()
        self.dropped = False

    def push(self, ev):
        with self.cond:
            self.queue.append(ev)
            self.cond.notify()

    def drop(self):
        with self.cond:
            self.dropped = True
            self.cond.notify()

    def selected(self, obj):
        if obj is None:
            return False
        return ((self.lsel.empty() or self.lsel.matches(obj["metadata"].get("labels"))) and
                (self.fsel.empty() or self.fsel.matches(obj)))

    def translate(self, ev):
        """Event (rv, rkey, type, obj, old) -> (type, obj) for this watcher's selection."""
        _, _, etype, obj, old = ev
        if self.lsel.empty() and self.fsel.empty():
            return etype, obj
        if etype == "ADDED":
            return ("ADDED", obj) if self.selected(obj) else None
        if etype == "DELETED":
            return ("DELETED", obj) if self.selected(obj) else None
        now, was = self.selected(obj), self.selected(old)
        if now and was:
            return "MODIFIED", obj
        if now:
            return "ADDED", obj
        if was:
            return "DELETED", obj
        return None


class State(Validation, GarbageCollector):
    def __init__(self, history=10000):
        self.lock = threading.RLock()
        self.rv = 0
        self.horizon = 0          # oldest resourceVersion a watch may resume from
        self.history = []         # (rv, rkey, type, obj, old) sorted by rv
        self.history_rvs = []
        self.history_max = history
        self.types = {}           # (group, plural) -> ResType
        self.objs = {}            # (group, plural) -> {(ns, name): obj}
        self.uids = {}            # uid -> (rkey, ns, name)
        self.watchers = {}        # rkey -> set(Watcher)
        self.watch_seq = 0
        self.snapshots = {}       # continue id -> (rv, [objs])
        self.snap_seq = 0
        self.snap_floor = 0       # continue tokens with ids up to this were compacted
        self.gc_wake = threading.Event()
        self.openapi_gen = 0
        for rt in builtin_types():
            self._register(rt)
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
            self.create(self.types[("", "namespaces")], None,
                        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})

    # ---- registry

    def _register(self, rt):
        self.types[rt.key] = rt
        self.objs.setdefault(rt.key, {})
        self.watchers.setdefault(rt.key, set())
        self.openapi_gen += 1

    def lookup(self, group, version, plural):
        rt = self.types.get((group, plural))
        if rt is None or version not in rt.versions:
            return None
        return rt

    def groups(self):
        out = {}
        for rt in self.types.values():
            out.setdefault(rt.group, [])
            for v in rt.versions:
                if v not in out[rt.group]:
                    out[rt.group].append(v)
        return out

    # ---- low-level writes (lock held)

    def _bump(self):
        self.rv += 1
        return self.rv

    def _record(self, rkey, etype, obj, old):
        ev = (self.rv, rkey, etype, obj, old)
        self.history.append(ev)
        self.history_rvs.append(self.rv)
        if len(self.history) > self.history_max * 1.25:
            cut = len(self.history) - self.history_max
            self.horizon = self.history[cut - 1][0]
            del self.history[:cut]
            del self.history_rvs[:cut]
        ns = obj["metadata"].get("namespace")
        for w in list(self.watchers.get(rkey, ())):
            if w.namespace is None or w.namespace == ns:
                w.push(ev)

    def _store(self, rt, obj, etype, old):
        rv = self._bump()
        obj["metadata"]["resourceVersion"] = str(rv)
        md = obj["metadata"]
        key = (md.get("namespace"), md["name"])
        self.objs[rt.key][key] = obj
        self.uids[md["uid"]] = (rt.key, key[0], key[1])
        self._record(rt.key, etype, obj, old)
        return obj

    def _remove(self, rt, obj):
        md = obj["metadata"]
        key = (md.get("namespace"), md["name"])
        self.objs[rt.key].pop(key, None)
        self.uids.pop(md.get("uid"), None)
        gone = dict(obj)
        gone["metadata"] = dict(md)
        rv = self._bump()
        gone["metadata"]["resourceVersion"] = str(rv)
        self._record(rt.key, "DELETED", gone, obj)
        self.gc_wake.set()
        if rt.key == ("apiextensions.k8s.io", "customresourcedefinitions"):
            self._unregister_crd(obj)
        return gone

    def compact(self):
        with self.lock:
            self.horizon = self.rv
            self.history.clear()
            self.history_rvs.clear()
            self.snapshots.clear()
            self.snap_floor = self.snap_seq
            return self.rv

    # ---- object helpers

    def get_obj(self, rt, ns, name):
        obj = self.objs[rt.key].get((ns if rt.namespaced else None, name))
        if obj is None:
            raise self.not_found(rt, name)
        return obj

    @staticmethod
    def not_found(rt, name):
        return ApiError(404, "NotFound", '%s "%s" not found' % (rt.gr(), name),
                        {"name": name, "group": rt.group, "kind": rt.plural})

    @staticmethod
    def conflict(rt, name, why="the object has been modified; please apply your changes to "
                 "the latest version and try again"):
        return ApiError(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": %s' % (
            rt.gr(), name, why), {"name": name, "group": rt.group, "kind": rt.plural})

    # ---- verbs

    def create(self, rt, ns, body, version=None, fv="Warn", dry_run=False, warnings=None):
        version = version or rt.storage_version
        warnings = [] if warnings is None else warnings
        obj = body
        self._check_kind(rt, obj, version)
        md = obj["metadata"]
        if rt.namespaced:
            if md.get("namespace") and md["namespace"] != ns:
                raise bad_request("the namespace of the provided object does not match the "
                                  "namespace sent on the request")
            md["namespace"] = ns
        else:
            md.pop("namespace", None)
        if md.get("resourceVersion"):
            raise ApiError(500, "InternalError", "Internal error occurred: resourceVersion "
                           "should not be set on objects to be created")
        for f in ("uid", "creationTimestamp", "deletionTimestamp",
                  "deletionGracePeriodSeconds", "generation"):
            md.pop(f, None)
        gen = md.get("generateName")
        if not md.get("name") and gen:
            if not isinstance(gen, str) or not DNS1123_SUB.match(gen.rstrip("-.") or "x"):
                raise invalid(rt.kind_group(), "", [("FieldValueInvalid",
                                                    "metadata.generateName",
                                                    "Invalid value: %s" % _jv(gen))])
            md["name"] = gen[:58] + "".join(random.choice(GEN_ALPHABET) for _ in range(5))
        name = md.get("name") or ""
        self._validate_meta(rt, obj, name, True)
        if rt.status_sub and not rt.builtin:
            obj.pop("status", None)
        self._prepare_body(rt, obj, name, fv, warnings, version)
        if rt.key == ("", "namespaces"):
            obj.setdefault("spec", {})["finalizers"] = ["kubernetes"]
            obj["status"] = {"phase": "Active"}
            md.setdefault("labels", {})["kubernetes.io/metadata.name"] = name
        with self.lock:
            self._check_namespace(rt, ns, name)
            if (md.get("namespace"), name) in self.objs[rt.key]:
                raise ApiError(409, "AlreadyExists", '%s "%s" already exists' % (rt.gr(), name),
                               {"name": name, "group": rt.group, "kind": rt.plural})
            md["uid"] = str(uuid.uuid4())
            md["creationTimestamp"] = now_ts()
            if rt.has_generation:
                md["generation"] = 1
            if rt.key == ("apiextensions.k8s.io", "customresourcedefinitions"):
                obj["status"] = self._crd_status(obj)
            if dry_run:
                md["resourceVersion"] = str(self.rv)
                return obj
            self._store(rt, obj, "ADDED", None)
            if rt.key == ("apiextensions.k8s.io", "customresourcedefinitions"):
                self._after_crd_write(obj)
            if md.get("ownerReferences"):
                self.gc_wake.set()
            return obj

    def _merge_update(self, rt, old, new, sub, version, fv, warnings):
        """Build the object to store from old and a full new body (lock held)."""
        self._check_kind(rt, new, version)
        md, omd = new["metadata"], old["metadata"]
        name = omd["name"]
        if sub == "status":
            status = new.get("status")
            merged = jcopy(old)
            if status is not None:
                merged["status"] = status
            else:
                merged.pop("status", None)
            new, md = merged, merged["metadata"]
        else:
            for f in ("uid", "creationTimestamp", "deletionTimestamp",
                      "deletionGracePeriodSeconds", "generation", "namespace"):
                if f in omd:
                    md[f] = omd[f]
                else:
                    md.pop(f, None)
            if "generateName" in omd:
                md["generateName"] = omd["generateName"]
            else:
                md.pop("generateName", None)
            if rt.status_sub:
                if "status" in old:
                    new["status"] = jcopy(old["status"])
                else:
                    new.pop("status", None)
        self._validate_meta(rt, new, name, False)
        self._prepare_body(rt, new, name, fv, warnings, version)
        if rt.key == ("", "secrets") and old.get("type", "Opaque") != new.get("type", "Opaque"):
            raise invalid(rt.kind_group(), name, [("FieldValueInvalid", "type",
                                                   "Invalid value: %s: field is immutable" %
                                                   _jv(new.get("type")))])
        if rt.key in (("", "secrets"), ("", "configmaps")) and old.get("immutable"):
            for f in ("data", "binaryData", "immutable"):
                if old.get(f) != new.get(f):
                    raise invalid(rt.kind_group(), name, [(
                        "FieldValueForbidden", f, "Forbidden: field is immutable when "
                        "`immutable` is set")])
        if rt.key == ("", "namespaces"):
            new.setdefault("spec", {}).setdefault("finalizers",
                                                  (old.get("spec") or {}).get("finalizers", []))
            md.setdefault("labels", {})["kubernetes.io/metadata.name"] = name
        if omd.get("deletionTimestamp"):
            added = [f for f in (md.get("finalizers") or []) if
                     f not in (omd.get("finalizers") or [])]
            if added:
                raise invalid(rt.kind_group(), name, [(
                    "FieldValueForbidden", "metadata.finalizers",
                    "Forbidden: no new finalizers can be added if the object is being deleted, "
                    "found new finalizers %s" % _go_strings(added))])
        if rt.has_generation:
            a = {k: v for k, v in new.items() if k not in ("metadata", "status", "kind",
                                                           "apiVersion")}
            b = {k: v for k, v in old.items() if k not in ("metadata", "status", "kind",
                                                           "apiVersion")}
            if not rt.status_sub:
                a["status"], b["status"] = new.get("status"), old.get("status")
            if a != b:
                md["generation"] = int(omd.get("generation") or 1) + 1
        if rt.key == ("apiextensions.k8s.io", "customresourcedefinitions"):
            if sub != "status":
                new["status"] = self._crd_status(new)
        md["resourceVersion"] = omd["resourceVersion"]
        return new

    def _commit_update(self, rt, old, new, dry_run):
        if _same_ignoring_rv(old, new):
            return old
        if dry_run:
            return new
        self._store(rt, new, "MODIFIED", old)
        md = new["metadata"]
        if rt.key == ("apiextensions.k8s.io", "customresourcedefinitions"):
            self._after_crd_write(new)
        if md.get("ownerReferences") or old["metadata"].get("ownerReferences"):
            self.gc_wake.set()
        if md.get("deletionTimestamp"):
            self.gc_wake.set()
            if not md.get("finalizers") and not (rt.key == ("", "namespaces")):
                self._remove(rt, new)
        return new

    def update(self, rt, ns, name, body, sub=None, version=None, fv="Warn", dry_run=False,
               warnings=None):
        version = version or rt.storage_version
        warnings = [] if warnings is None else warnings
        if not isinstance(body, dict) or not isinstance(body.get("metadata", {}), dict):
            raise bad_request("the body of the request must be a JSON object")
        bmd = body.setdefault("metadata", {})
        if bmd.get("name") and bmd["name"] != name:
            raise bad_request("the name of the object (%s) does not match the name on the URL "
                              "(%s)" % (bmd["name"], name))
        bmd["name"] = name
        if rt.namespaced and bmd.get("namespace") and bmd["namespace"] != ns:
            raise bad_request("the namespace of the provided object does not match the "
                              "namespace sent on the request")
        with self.lock:
            key = (ns if rt.namespaced else None, name)
            old = self.objs[rt.key].get(key)
            if old is None:
                if rt.allow_create_on_update and sub is None:
                    bmd.pop("resourceVersion", None)
                    return self.create(rt, ns, body, version, fv, dry_run, warnings), True
                raise self.not_found(rt, name)
            rv = bmd.get("resourceVersion")
            if not rv:
                if not rt.allow_unconditional:
                    raise invalid(rt.kind_group(), name, [(
                        "FieldValueInvalid", "metadata.resourceVersion",
                        "Invalid value: 0x0: must be specified for an update")])
            elif rv != old["metadata"]["resourceVersion"]:
                raise self.conflict(rt, name)
            new = self._merge_update(rt, old, body, sub, version, fv, warnings)
            return self._commit_update(rt, old, new, dry_run), False

    def patch(self, rt, ns, name, ctype, patch, sub=None, version=None, fv="Warn",
              dry_run=False, warnings=None):
        version = version or rt.storage_version
        warnings = [] if warnings is None else warnings
        with self.lock:
            old = self.get_obj(rt, ns, name)
            cur = jcopy(old)
            cur["apiVersion"] = rt.api_version(version)
            if ctype == "application/merge-patch+json":
                if not isinstance(patch, dict):
                    raise bad_request("merge patch must be a JSON object")
                new = merge_patch(cur, patch)
            elif ctype == "application/json-patch+json":
                new = json_patch(cur, patch)
            elif ctype == "application/strategic-merge-patch+json":
                if not rt.builtin:
                    raise ApiError(415, "UnsupportedMediaType",
                                   "the body of the request was in an unknown format - "
                                   "accepted media types include: application/json-patch+json,"
                                   " application/merge-patch+json, application/apply-patch+yaml")
                if not isinstance(patch, dict):
                    raise bad_request("strategic merge patch must be a JSON object")
                new = strategic_merge_patch(cur, patch)
            else:
                raise ApiError(415, "UnsupportedMediaType",
                               "the body of the request was in an unknown format - accepted "
                               "media types include: application/json-patch+json, "
                               "application/merge-patch+json, "
                               "application/apply-patch+yaml (server-side apply is not "
                               "implemented by this fake)")
            if not isinstance(new, dict):
                raise bad_request("patch result is not an object")
            new = jcopy(new)
            nmd = new.setdefault("metadata", {})
            if not isinstance(nmd, dict):
                raise bad_request("metadata must be an object")
            rv = nmd.get("resourceVersion")
            if rv and rv != old["metadata"]["resourceVersion"]:
                raise self.conflict(rt, name)
            if nmd.get("name", name) != name:
                raise bad_request("the name of the object (%s) does not match the name on the "
                                  "URL (%s)" % (nmd.get("name"), name))
            nmd["name"] = name
            if rt.namespaced:
                if nmd.get("namespace", ns) != ns:
                    raise bad_request("the namespace of the provided object does not match "
                                      "the namespace sent on the request")
                nmd["namespace"] = ns
            merged = self._merge_update(rt, old, new, sub, version, fv, warnings)
            return self._commit_update(rt, old, merged, dry_run)

    def delete(self, rt, ns, name, opts, dry_run=False):
        with self.lock:
            old = self.get_obj(rt, ns, name)
            omd = old["metadata"]
            pre = opts.get("preconditions") or {}
            if pre.get("uid") and pre["uid"] != omd["uid"]:
                raise self.conflict(rt, name, "Precondition failed: UID in precondition: %s, "
                                    "UID in object meta: %s" % (pre["uid"], omd["uid"]))
            if pre.get("resourceVersion") and pre["resourceVersion"] != omd["resourceVersion"]:
                raise self.conflict(rt, name, "Precondition failed: ResourceVersion in "
                                    "precondition: %s, ResourceVersion in object meta: %s" % (
                                        pre["resourceVersion"], omd["resourceVersion"]))
            policy = opts.get("propagationPolicy")
            if policy not in (None, "", "Background", "Foreground", "Orphan"):
                raise invalid("DeleteOptions", "", [(
                    "FieldValueNotSupported", "propagationPolicy", "Unsupported value: %s: "
                    'supported values: "Foreground", "Background", "Orphan", "nil"' %
                    _jv(policy))])
            if not policy and opts.get("orphanDependents") is True:
                policy = "Orphan"
            fins = list(omd.get("finalizers") or [])
            if policy == "Foreground" and "foregroundDeletion" not in fins:
                fins.append("foregroundDeletion")
            if policy == "Orphan" and "orphan" not in fins:
                fins.append("orphan")
            if dry_run:
                return old, False
            if rt.key == ("", "namespaces") or fins:
                if omd.get("deletionTimestamp"):
                    if fins != (omd.get("finalizers") or []):
                        new = jcopy(old)
                        new["metadata"]["finalizers"] = fins
                        self._store(rt, new, "MODIFIED", old)
                        self.gc_wake.set()
                        return new, False
                    return old, False
                new = jcopy(old)
                nmd = new["metadata"]
                nmd["deletionTimestamp"] = now_ts()
                nmd["deletionGracePeriodSeconds"] = 0
                if fins:
                    nmd["finalizers"] = fins
                if nmd.get("generation"):
                    nmd["generation"] = int(nmd["generation"]) + 1
                if rt.key == ("", "namespaces"):
                    new.setdefault("status", {})["phase"] = "Terminating"
                self._store(rt, new, "MODIFIED", old)
                self.gc_wake.set()
                return new, False
            return self._remove(rt, old), True

    def list_objs(self, rt, ns, lsel, fsel):
        store = self.objs[rt.key]
        keys = sorted(k for k in store if (ns is None or k[0] == ns))
        out = []
        for k in keys:
            o = store[k]
            if (lsel.empty() or lsel.matches(o["metadata"].get("labels"))) and \
                    (fsel.empty() or fsel.matches(o)):
                out.append(o)
        return out

    def list(self, rt, ns, lsel, fsel, limit, cont):
        with self.lock:
            if cont:
                try:
                    tok = json.loads(base64.urlsafe_b64decode(cont.encode() + b"==").decode())
                    trv, sid, off, last = tok["rv"], tok["id"], tok["off"], tok["last"]
                except Exception:  # noqa: BLE001 - any garbage token
                    raise bad_request("continue key is not valid: invalid continue token")
                if trv < self.horizon or sid <= self.snap_floor:
                    raise ApiError(410, "Expired", "The provided continue parameter is too "
                                   "old to display a consistent list result. You can start a "
                                   "new list without the continue parameter, or use the "
                                   "continue token in this response to retrieve the remainder "
                                   "of the results. Continuing with the provided token results "
                                   "in an inconsistent list - objects that were created, "
                                   "modified, or deleted between the time the first chunk was "
                                   "returned and now may show up in the list.")
                snap = self.snapshots.get(sid)
                if snap is None:
                    items = [o for o in self.list_objs(rt, ns, lsel, fsel)
                             if (o["metadata"].get("namespace") or "",
                                 o["metadata"]["name"]) > tuple(last)]
                    off = 0
                    sid = self._snap(trv, items)
                    snap = self.snapshots[sid]
                rv, items = trv, snap[1]
            else:
                rv, items, off = self.rv, self.list_objs(rt, ns, lsel, fsel), 0
                sid = None
            page = items[off:off + limit] if limit else items[off:]
            rest = len(items) - off - len(page)
            token = None
            if limit and rest > 0:
                if sid is None:
                    sid = self._snap(rv, items)
                lo = page[-1]["metadata"]
                token = base64.urlsafe_b64encode(json.dumps({
                    "rv": rv, "id": sid, "off": off + len(page),
                    "last": [lo.get("namespace") or "", lo["name"]]}).encode()).decode().rstrip("=")
            elif sid is not None:
                self.snapshots.pop(sid, None)
            return rv, page, token, rest

    def _snap(self, rv, items):
        self.snap_seq += 1
        self.snapshots[self.snap_seq] = (rv, items)
        while len(self.snapshots) > 64:
            self.snapshots.pop(next(iter(self.snapshots)))
        return self.snap_seq


def _go_strings(xs):
    return "[]string{%s}" % ", ".join('"%s"' % x for x in xs)


def _same_ignoring_rv(a, b):
    if a.keys() != b.keys():
        return False
    for k in a:
        if k == "metadata":
            ma = {x: y for x, y in a[k].items() if x != "resourceVersion"}
            mb = {x: y for x, y in b[k].items() if x != "resourceVersion"}
            if ma != mb:
                return False
        elif a[k] != b[k]:
            return False
    return True

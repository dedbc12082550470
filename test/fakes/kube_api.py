#!/usr/bin/python3
"""kube_api.py: a Kubernetes API server stand-in for tests (independent of the C code).

Run with Debian's /usr/bin/python3 (needs python3-yaml and python3-jsonschema).

    /usr/bin/python3 test/fakes/kube_api.py --port 0 [--host 127.0.0.1] [--tls]
        [--token T] [--kubeconfig-out PATH] [--crds DIR_OR_FILE] [--log-requests]
        [--bookmark-interval 1.0] [--history 10000] [--watch-too-old event|http]
        [--gc-interval 0.05]

Prints `port <N>` (the bound port), `url <URL>`, `ca <file>` (with --tls), then `ready` once
serving, each line flushed. SIGTERM/SIGINT stop it and remove the temporary certificates.
--tls generates a throwaway CA and a server certificate for 127.0.0.1/localhost with the
openssl CLI in a temporary directory and requires a generated bearer token (or the one given
with --token). Without --tls the server speaks plain HTTP and needs no auth unless --token is
given. --kubeconfig-out writes a kubeconfig (server URL, CA data, token, current-context
"fake", namespace default) usable by kubectl and by the operator.

What it implements (JSON only; answers protobuf request bodies with 415):
- Discovery: /version, /api, /api/v1, /apis, /apis/<g>, /apis/<g>/<v> (plain APIVersions,
  APIGroupList and APIResourceList; kubectl falls back to these from aggregated discovery).
- OpenAPI v3: /openapi/v3 index and per group-version documents generated from the CRD
  schemas; every write operation declares the fieldValidation query parameter, so kubectl
  apply with its default --validate=strict leaves validation to this server and sends
  fieldValidation=Strict. /openapi/v2 is 404 (kubectl then uses its compiled-in types for
  strategic merge patches of built-in kinds).
- apiextensions.k8s.io/v1 CustomResourceDefinitions (create/get/list/update/patch/delete);
  registering one serves its resources at once (all served versions share one store, no
  conversion: apiVersion is rewritten, as with the real "None" strategy). Custom resources are
  pruned like the real server (unknown fields outside x-kubernetes-preserve-unknown-fields
  are dropped; null in a non-nullable field is dropped; `default`s applied), then validated
  against openAPIV3Schema with jsonschema (nullable, x-kubernetes-int-or-string, list-type
  map/set uniqueness, format date-time). Violations give 422 Invalid with causes. Unknown
  fields with fieldValidation=Strict give 400 BadRequest "strict decoding error: unknown
  field ..."; with Warn (the default) a `Warning: 299` header per field.
- Built-ins: Namespaces (cluster scope, Terminating phase while content is deleted),
  Secrets (data must be base64; stringData merged into data), ConfigMaps, Events (core v1),
  Leases (coordination.k8s.io/v1); also stored without validation and without controllers:
  ServiceAccounts, Services, Pods, Endpoints, PersistentVolumeClaims, apps/v1 Deployments,
  rbac.authorization.k8s.io/v1 Roles, RoleBindings, ClusterRoles, ClusterRoleBindings.
  Namespaced objects need an existing namespace (404), not a terminating one (403).
- Verbs: create (generateName; 409 AlreadyExists), get, list (label selectors = == != in
  notin exists !key; field selectors metadata.name/metadata.namespace and a few per kind,
  others 400; limit/continue with consistent snapshot pages; a continue token older than the
  compaction horizon gives 410 Expired), update (409 Conflict on stale resourceVersion;
  custom resources and CRDs require metadata.resourceVersion (422), built-ins allow
  unconditional update; no-op updates do not bump the resourceVersion), patch (merge,
  RFC 6902 JSON patch incl. test, strategic merge for built-in kinds: maps merge, null
  deletes, `$patch: replace|delete`, `$deleteFromPrimitiveList/`, `$setElementOrder/` and
  `$retainKeys` ignored, finalizers merged as a set, ownerReferences merged by uid, other lists
  replaced; a resourceVersion in the patch is a precondition), delete (DeleteOptions body or
  query: preconditions uid/resourceVersion -> 409, propagationPolicy Background (default) /
  Foreground / Orphan, dryRun), deletecollection. dryRun=All on writes.
- Status subresource (CRDs with subresources.status, and built-ins that have one): writes to
  the main resource ignore .status (create drops it), writes to /status change only .status;
  metadata.generation starts at 1 and bumps when anything but metadata/status changes (and when
  deletion starts).
- Finalizers: delete of an object with finalizers sets deletionTimestamp and
  deletionGracePeriodSeconds=0 and keeps it; an update that removes the last finalizer
  deletes it (MODIFIED then DELETED); adding finalizers to a deleting object is 422.
- Garbage collector thread: dependents whose ownerReferences all point at gone owners are
  deleted (respecting their finalizers), dangling references are removed when another owner
  remains; Foreground (foregroundDeletion finalizer until dependents are gone; every
  dependent blocks, whatever its blockOwnerDeletion) and Orphan
  (orphan finalizer, references removed); namespace deletion deletes everything inside and
  then the namespace.
- One global strictly increasing resourceVersion (decimal string) shared by all kinds; lists
  carry the collection resourceVersion; DELETED events carry the deletion's resourceVersion.
- Watches (?watch=true|1, and the legacy /watch/ path prefix): newline-delimited JSON events
  over chunked transfer encoding. resourceVersion absent or "0": synthetic ADDED for current
  objects first. resourceVersion=N: events after N replayed from a bounded history
  (--history); N older than the horizon (history overflow or POST /fake/compact) gives, like
  the real watch cache, HTTP 200 and one ERROR event carrying a 410 Expired Status "too old
  resource version: N (H)"; with --watch-too-old http the watch start is answered with HTTP 410
  and that Status instead. allowWatchBookmarks=true: BOOKMARK events (kind, apiVersion,
  metadata.resourceVersion) every --bookmark-interval seconds. sendInitialEvents=true: ADDED
  for current objects then a BOOKMARK annotated k8s.io/initial-events-end. timeoutSeconds
  honoured (default 1800). Label/field selectors apply; an object leaving the selection is
  sent as DELETED, entering as ADDED.
- Table output for Accept `application/json;as=Table;v=v1;g=meta.k8s.io` on get and list:
  CRD additionalPrinterColumns (simple jsonPaths: .a.b, [n], ['k']; date -> age, priority kept
  for -o wide), Name/Age (Name/Created At for CRDs) for built-ins; row objects per
  includeObject (Metadata default, Object, None).
- Errors are always Status objects with reason NotFound, AlreadyExists, Conflict, Invalid,
  BadRequest, Expired, Gone, Forbidden, Unauthorized, TooManyRequests, MethodNotAllowed,
  UnsupportedMediaType, InternalError, ServiceUnavailable.

Control API (not Kubernetes paths; never needs the bearer token):
- POST /fake/drop-watches         close every open watch stream abruptly (no final chunk).
                                  Answer {"dropped": N}.
- GET  /fake/watches              the open watches: [{"id", "path", "query", "since"}].
- POST /fake/fail                 {"count":N, "code":500, "method":"PUT", "path_regex":"...",
                                   "query_regex":"...", "retry_after":2, "message":"...",
                                   "reason":"...", "drop":false}: the next N matching requests
                                  (method optional, regexes searched in the path / raw query)
                                  are answered with a Status of that code (429 adds a
                                  Retry-After header and details.retryAfterSeconds) or, with
                                  "drop": true, the connection is closed without an answer.
                                  {"clear": true} removes all failure rules.
- POST /fake/latency              {"ms":N, "path_regex":"...", "method":"GET", "count":N}: delay
                                  matching requests (count absent = until cleared);
                                  {"clear": true} or ms 0 removes all latency rules.
- POST /fake/bulk-create          {"group", "version", "plural", "namespace", "template": obj,
                                   "count": N, "prefix": "acc-", "start": 0}: create N copies
                                  of template named <prefix><5-digit index> exactly as POST
                                  would (validation, watch events), in one request.
                                  Answer {"created": N, "resourceVersion": RV}.
- POST /fake/compact              forget the event history (and continue snapshots) up to
                                  now: older resourceVersions give 410. Answer {"horizon": RV}.
- GET  /fake/requests?since=N     the request log: [{"seq", "time", "method", "path",
                                  "query", "status", "content_type", "watch", "user_agent",
                                  "body"}] with
                                  seq > N (body = parsed JSON of writes when small).
- POST /fake/reset-log            empty the request log (seq keeps counting).
- GET  /fake/state                dump: resourceVersion, horizon, counts, objects.
- GET  /fake/healthz              "ok".

Deliberately not implemented: server-side apply (application/apply-patch+yaml -> 415),
protobuf, CBOR, aggregated discovery v2 documents, managedFields, CEL
x-kubernetes-validations, formats other than date-time, admission webhooks, conversion
webhooks, RBAC/authorization (any valid token may do anything), scale subresource, namespace
/finalize, real controllers for built-ins (no pods run), graceful deletion periods (deletion is
immediate unless finalizers hold it), resourceVersionMatch=Exact lists of old versions,
"too large resource version" waits (a watch from a future resourceVersion just waits for
events after it), PartialObjectMetadata responses, events.k8s.io. A list at resourceVersion=0 ignores limit and returns every
object in one response, as the real server's watch cache does. The event history is one global
ring shared by all kinds (like etcd compaction, unlike the per-resource watch cache). Watches asked for Table output (kubectl get -w) get one
single-row Table per event, column definitions included each time. CRD deletion removes its custom
resources at once, ignoring their finalizers.
"""

import argparse
import base64
import bisect
import copy
import datetime
import hashlib
import json
import os
import random
import re
import secrets
import select
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jsonschema
import yaml

# --------------------------------------------------------------------------- helpers


def now_ts():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_ts(s):
    try:
        return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc)
    except (TypeError, ValueError):
        try:
            return datetime.datetime.fromisoformat(str(s).replace("Z", "+00:00"))
        except ValueError:
            return None


def jcopy(o):
    return json.loads(json.dumps(o))


def human_duration(seconds):
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return "%ds" % s
    m = s // 60
    if m < 10:
        return "%dm" % m if s % 60 == 0 else "%dm%ds" % (m, s % 60)
    if m < 180:
        return "%dm" % m
    h = s // 3600
    if h < 8:
        return "%dh" % h if m % 60 == 0 else "%dh%dm" % (h, m % 60)
    if h < 48:
        return "%dh" % h
    if h < 24 * 8:
        return "%dd" % (h // 24) if h % 24 == 0 else "%dd%dh" % (h // 24, h % 24)
    if h < 24 * 365 * 2:
        return "%dd" % (h // 24)
    if h < 24 * 365 * 8:
        dy = (h // 24) % 365
        return "%dy" % (h // 24 // 365) if dy == 0 else "%dy%dd" % (h // 24 // 365, dy)
    return "%dy" % (h // 24 // 365)


REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
           405: "MethodNotAllowed", 406: "NotAcceptable", 409: "Conflict", 410: "Gone",
           415: "UnsupportedMediaType", 422: "Invalid", 429: "TooManyRequests",
           500: "InternalError", 503: "ServiceUnavailable", 504: "Timeout"}


class ApiError(Exception):
    def __init__(self, code, reason, message, details=None, headers=None):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message
        self.details, self.headers = details, headers or {}

    def status(self):
        return status_obj(self.code, self.reason, self.message, self.details)


def status_obj(code, reason, message, details=None):
    st = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
          "message": message, "reason": reason, "code": code}
    if details:
        st["details"] = details
    return st


def bad_request(msg):
    return ApiError(400, "BadRequest", msg)


DNS1123_SUB = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
GEN_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

# --------------------------------------------------------------------------- selectors

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


# --------------------------------------------------------------------------- patches


def merge_patch(target, patch):
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        else:
            result[k] = merge_patch(result.get(k), v)
    return result


def _ptr_tokens(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise bad_request("json patch: invalid path %r" % path)
    return [t.replace("~1", "/").replace("~0", "~") for t in path[1:].split("/")]


def _ptr_parent(doc, toks, path):
    cur = doc
    for t in toks[:-1]:
        if isinstance(cur, dict):
            if t not in cur:
                raise ApiError(422, "Invalid", "jsonpatch: path %s: missing key %s" % (path, t))
            cur = cur[t]
        elif isinstance(cur, list):
            try:
                cur = cur[int(t)]
            except (ValueError, IndexError):
                raise ApiError(422, "Invalid", "jsonpatch: path %s: bad index %s" % (path, t))
        else:
            raise ApiError(422, "Invalid", "jsonpatch: path %s does not exist" % path)
    return cur


def _ptr_get(doc, path):
    toks = _ptr_tokens(path)
    if not toks:
        return doc
    parent = _ptr_parent(doc, toks, path)
    last = toks[-1]
    try:
        if isinstance(parent, dict):
            return parent[last]
        if isinstance(parent, list):
            return parent[int(last)]
    except (KeyError, ValueError, IndexError):
        pass
    raise ApiError(422, "Invalid", "jsonpatch: path %s does not exist" % path)


def _ptr_remove(doc, path):
    toks = _ptr_tokens(path)
    if not toks:
        raise ApiError(422, "Invalid", "jsonpatch: cannot remove the root")
    parent = _ptr_parent(doc, toks, path)
    last = toks[-1]
    try:
        if isinstance(parent, dict):
            return parent.pop(last)
        if isinstance(parent, list):
            return parent.pop(int(last))
    except (KeyError, ValueError, IndexError):
        pass
    raise ApiError(422, "Invalid", "jsonpatch: remove: path %s does not exist" % path)


def _ptr_add(doc, path, value, replace=False):
    toks = _ptr_tokens(path)
    if not toks:
        return value
    parent = _ptr_parent(doc, toks, path)
    last = toks[-1]
    if isinstance(parent, dict):
        if replace and last not in parent:
            raise ApiError(422, "Invalid", "jsonpatch: replace: path %s does not exist" % path)
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-" and not replace:
            parent.append(value)
        else:
            try:
                idx = int(last)
            except ValueError:
                raise ApiError(422, "Invalid", "jsonpatch: bad index in %s" % path)
            if replace:
                if not 0 <= idx < len(parent):
                    raise ApiError(422, "Invalid", "jsonpatch: index out of range %s" % path)
                parent[idx] = value
            else:
                if not 0 <= idx <= len(parent):
                    raise ApiError(422, "Invalid", "jsonpatch: index out of range %s" % path)
                parent.insert(idx, value)
    else:
        raise ApiError(422, "Invalid", "jsonpatch: path %s does not exist" % path)
    return doc


def json_patch(doc, ops):
    """RFC 6902."""
    if not isinstance(ops, list):
        raise bad_request("json patch must be a list of operations")
    doc = copy.deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op:
            raise bad_request("json patch: invalid operation %r" % (op,))
        kind, path = op["op"], op.get("path", "")
        if kind == "add":
            doc = _ptr_add(doc, path, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            _ptr_remove(doc, path)
        elif kind == "replace":
            doc = _ptr_add(doc, path, copy.deepcopy(op.get("value")), replace=True)
        elif kind == "move":
            val = _ptr_remove(doc, op["from"])
            doc = _ptr_add(doc, path, val)
        elif kind == "copy":
            doc = _ptr_add(doc, path, copy.deepcopy(_ptr_get(doc, op["from"])))
        elif kind == "test":
            if _ptr_get(doc, path) != op.get("value"):
                raise ApiError(422, "Invalid",
                               "the server rejected our request due to an error in our "
                               "request: testing value %s failed" % path)
        else:
            raise bad_request("json patch: unknown operation %r" % kind)
    return doc


SMP_MERGE_KEYS = {"ownerReferences": "uid", "conditions": "type", "containers": "name",
                  "initContainers": "name", "env": "name", "volumes": "name",
                  "volumeMounts": "mountPath", "ports": "containerPort",
                  "imagePullSecrets": "name", "subjects": None}
SMP_PRIMITIVE_SETS = {"finalizers"}


def strategic_merge_patch(target, patch):
    """The strategic-merge-patch subset documented at the top of this file."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    result = dict(target) if isinstance(target, dict) else {}
    deferred = []
    for k, v in patch.items():
        if k in ("$patch", "$retainKeys") or k.startswith("$setElementOrder/"):
            continue
        if k.startswith("$deleteFromPrimitiveList/"):
            deferred.append((k.split("/", 1)[1], v))
            continue
        if v is None:
            result.pop(k, None)
        elif isinstance(v, dict):
            if v.get("$patch") == "delete":
                result.pop(k, None)
            else:
                result[k] = strategic_merge_patch(result.get(k), v)
        elif isinstance(v, list) and k in SMP_PRIMITIVE_SETS:
            cur = list(result.get(k) or [])
            for x in v:
                if x not in cur:
                    cur.append(x)
            result[k] = cur
        elif isinstance(v, list) and SMP_MERGE_KEYS.get(k):
            mk = SMP_MERGE_KEYS[k]
            cur = [copy.deepcopy(x) for x in (result.get(k) or [])]
            for item in v:
                if not isinstance(item, dict) or mk not in item:
                    continue
                idx = next((i for i, x in enumerate(cur)
                            if isinstance(x, dict) and x.get(mk) == item[mk]), None)
                if item.get("$patch") == "delete":
                    if idx is not None:
                        cur.pop(idx)
                elif idx is None:
                    cur.append({a: b for a, b in item.items() if a != "$patch"})
                else:
                    cur[idx] = strategic_merge_patch(cur[idx], item)
            result[k] = cur
        else:
            result[k] = copy.deepcopy(v)
    for k, vals in deferred:
        result[k] = [x for x in (result.get(k) or []) if x not in vals]
    return result


# --------------------------------------------------------------------------- schemas


def _is_integer(checker, inst):
    if isinstance(inst, bool):
        return False
    return isinstance(inst, int) or (isinstance(inst, float) and inst.is_integer())


_TYPE_CHECKER = jsonschema.Draft4Validator.TYPE_CHECKER.redefine("integer", _is_integer)
K8sValidator = jsonschema.validators.extend(jsonschema.Draft4Validator,
                                            type_checker=_TYPE_CHECKER)


def to_jsonschema(s):
    """Kubernetes structural schema node -> JSON Schema draft 4."""
    if not isinstance(s, dict):
        return s
    out = {}
    for k, v in s.items():
        if k.startswith("x-kubernetes-") or k in ("nullable", "default", "description",
                                                  "example", "externalDocs", "format"):
            continue
        if k == "properties":
            out[k] = {pk: to_jsonschema(pv) for pk, pv in v.items()}
        elif k in ("items", "additionalProperties", "not") and isinstance(v, dict):
            out[k] = to_jsonschema(v)
        elif k in ("allOf", "anyOf", "oneOf"):
            out[k] = [to_jsonschema(x) for x in v]
        else:
            out[k] = v
    if s.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out = {"allOf": [out, {"anyOf": [{"type": "integer"}, {"type": "string"}]}]}
    if s.get("nullable"):
        out = {"anyOf": [{"type": "null"}, out]}
    return out


def prune_and_default(obj, schema, path, unknown, root=False):
    """Prune like the API server (returns the new value); collects unknown field paths."""
    if not isinstance(schema, dict):
        return obj
    if isinstance(obj, dict):
        props = schema.get("properties")
        addl = schema.get("additionalProperties")
        preserve = schema.get("x-kubernetes-preserve-unknown-fields") is True
        embedded = schema.get("x-kubernetes-embedded-resource") is True
        out = {}
        for k, v in obj.items():
            sub = None
            if (root or embedded) and k in ("apiVersion", "kind", "metadata"):
                out[k] = v
                continue
            if props and k in props:
                sub = props[k]
            elif isinstance(addl, dict):
                sub = addl
            if sub is None:
                if preserve or addl is True:
                    out[k] = v
                else:
                    unknown.append(path + [k])
                continue
            if v is None and not sub.get("nullable"):
                if "default" in sub:
                    out[k] = copy.deepcopy(sub["default"])
                continue
            out[k] = prune_and_default(v, sub, path + [k], unknown)
        if props:
            for k, sub in props.items():
                if k not in out and isinstance(sub, dict) and "default" in sub:
                    out[k] = prune_and_default(copy.deepcopy(sub["default"]), sub,
                                               path + [k], [])
        return out
    if isinstance(obj, list) and isinstance(schema.get("items"), dict):
        return [prune_and_default(x, schema["items"], path + [i], unknown)
                for i, x in enumerate(obj)]
    return obj


def fmt_path(parts):
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += "[%d]" % p
        else:
            out += ("." if out else "") + str(p)
    return out


def _jv(v):
    return json.dumps(v)


def extra_checks(obj, schema, path, causes):
    """date-time format and x-kubernetes-list-type uniqueness (not in jsonschema)."""
    if not isinstance(schema, dict):
        return
    if isinstance(obj, str) and schema.get("format") == "date-time":
        if not DATE_TIME.match(obj):
            f = fmt_path(path)
            causes.append(("FieldValueInvalid", f, 'Invalid value: %s: %s in body must be of '
                           'type date-time: %s' % (_jv(obj), f, _jv(obj))))
    if isinstance(obj, dict):
        props = schema.get("properties") or {}
        addl = schema.get("additionalProperties")
        for k, v in obj.items():
            sub = props.get(k, addl if isinstance(addl, dict) else None)
            if sub is not None:
                extra_checks(v, sub, path + [k], causes)
    elif isinstance(obj, list):
        lt = schema.get("x-kubernetes-list-type")
        if lt == "map":
            keys = schema.get("x-kubernetes-list-map-keys") or []
            seen = set()
            for i, item in enumerate(obj):
                if isinstance(item, dict):
                    kv = json.dumps([item.get(k) for k in keys])
                    if kv in seen:
                        f = fmt_path(path + [i])
                        causes.append(("FieldValueDuplicate", f, "Duplicate value: %s" %
                                       _jv({k: item.get(k) for k in keys})))
                    seen.add(kv)
        elif lt == "set":
            seen = set()
            for i, item in enumerate(obj):
                kv = json.dumps(item, sort_keys=True)
                if kv in seen:
                    causes.append(("FieldValueDuplicate", fmt_path(path + [i]),
                                   "Duplicate value: %s" % _jv(item)))
                seen.add(kv)
        if isinstance(schema.get("items"), dict):
            for i, item in enumerate(obj):
                extra_checks(item, schema["items"], path + [i], causes)


def _type_name(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def schema_causes(validator, obj):
    causes = []
    for e in validator.iter_errors(obj):
        path = list(e.absolute_path)
        f = fmt_path(path)
        if e.validator == "required":
            for r in e.validator_value:
                if isinstance(e.instance, dict) and r not in e.instance:
                    causes.append(("FieldValueRequired", fmt_path(path + [r]),
                                   "Required value"))
        elif e.validator == "type":
            t = e.validator_value
            t = t if isinstance(t, str) else "/".join(t)
            tn = _type_name(e.instance)
            causes.append(("FieldValueTypeInvalid", f, 'Invalid value: "%s": %s in body must '
                           'be of type %s: "%s"' % (tn, f or "body", t, tn)))
        elif e.validator == "enum":
            causes.append(("FieldValueNotSupported", f, "Unsupported value: %s: supported "
                           "values: %s" % (_jv(e.instance),
                                           ", ".join(_jv(x) for x in e.validator_value))))
        else:
            causes.append(("FieldValueInvalid", f, "Invalid value: %s: %s" % (
                _jv(e.instance) if not isinstance(e.instance, (dict, list)) else '"%s"' %
                _type_name(e.instance), e.message)))
    return causes


def invalid(kind_group, name, causes):
    msgs = ["%s: %s" % (f, m) if f else m for (_, f, m) in causes]
    msg = '%s "%s" is invalid: %s' % (kind_group, name,
                                      msgs[0] if len(msgs) == 1 else "[" + ", ".join(msgs) + "]")
    return ApiError(422, "Invalid", msg, {
        "name": name, "group": kind_group.split(".", 1)[1] if "." in kind_group else "",
        "kind": kind_group.split(".", 1)[0],
        "causes": [{"reason": r, "message": m, "field": f} for (r, f, m) in causes]})


# --------------------------------------------------------------------------- resource types


class ResType:
    def __init__(self, group, versions, plural, singular, kind, namespaced, status_sub=False,
                 has_generation=False, short_names=(), builtin=True, list_kind=None,
                 allow_unconditional=True, return_deleted=False, categories=(),
                 allow_create_on_update=False):
        self.group, self.versions, self.plural = group, list(versions), plural
        self.singular, self.kind, self.namespaced = singular, kind, namespaced
        self.list_kind = list_kind or kind + "List"
        self.status_sub, self.has_generation = status_sub, has_generation
        self.short_names, self.categories = list(short_names), list(categories)
        self.builtin, self.allow_unconditional = builtin, allow_unconditional
        self.allow_create_on_update = allow_create_on_update
        self.return_deleted = return_deleted
        self.storage_version = self.versions[0]
        self.schemas = {}       # version -> raw openAPIV3Schema
        self.validators = {}    # version -> jsonschema validator
        self.columns = {}       # version -> additionalPrinterColumns
        self.selectable_fields = []
        self.crd_name = None

    @property
    def key(self):
        return (self.group, self.plural)

    def api_version(self, version=None):
        v = version or self.storage_version
        return "%s/%s" % (self.group, v) if self.group else v

    def gr(self):
        return "%s.%s" % (self.plural, self.group) if self.group else self.plural

    def kind_group(self):
        return "%s.%s" % (self.kind, self.group) if self.group else self.kind

    def validator(self, version):
        v = self.validators.get(version)
        if v is None and self.schemas.get(version):
            v = K8sValidator(to_jsonschema(self.schemas[version]))
            self.validators[version] = v
        return v


def builtin_types():
    B = ResType
    return [
        B("", ["v1"], "namespaces", "namespace", "Namespace", False, status_sub=True,
          short_names=["ns"], return_deleted=True),
        B("", ["v1"], "secrets", "secret", "Secret", True),
        B("", ["v1"], "configmaps", "configmap", "ConfigMap", True, short_names=["cm"]),
        B("", ["v1"], "events", "event", "Event", True, short_names=["ev"],
          allow_create_on_update=True),
        B("", ["v1"], "serviceaccounts", "serviceaccount", "ServiceAccount", True,
          short_names=["sa"]),
        B("", ["v1"], "services", "service", "Service", True, status_sub=True,
          short_names=["svc"]),
        B("", ["v1"], "pods", "pod", "Pod", True, status_sub=True, short_names=["po"],
          return_deleted=True),
        B("", ["v1"], "endpoints", "endpoints", "Endpoints", True, short_names=["ep"]),
        B("", ["v1"], "persistentvolumeclaims", "persistentvolumeclaim",
          "PersistentVolumeClaim", True, status_sub=True, short_names=["pvc"]),
        B("coordination.k8s.io", ["v1"], "leases", "lease", "Lease", True),
        B("apps", ["v1"], "deployments", "deployment", "Deployment", True, status_sub=True,
          has_generation=True, short_names=["deploy"]),
        B("rbac.authorization.k8s.io", ["v1"], "roles", "role", "Role", True),
        B("rbac.authorization.k8s.io", ["v1"], "rolebindings", "rolebinding", "RoleBinding",
          True),
        B("rbac.authorization.k8s.io", ["v1"], "clusterroles", "clusterrole", "ClusterRole",
          False),
        B("rbac.authorization.k8s.io", ["v1"], "clusterrolebindings", "clusterrolebinding",
          "ClusterRoleBinding", False),
        B("apiextensions.k8s.io", ["v1"], "customresourcedefinitions",
          "customresourcedefinition", "CustomResourceDefinition", False, status_sub=True,
          has_generation=True, short_names=["crd", "crds"], allow_unconditional=False,
          return_deleted=True),
    ]


# The fields of apiextensions.k8s.io/v1 that a CRD's printer columns and
# schema nodes may hold: anything else is an unknown field, which the real
# server refuses under fieldValidation=Strict (kubectl's default) and warns
# about otherwise (a YAML slip such as an unquoted comma in a flow mapping
# makes one).
PRINTER_COLUMN_FIELDS = {"name", "type", "format", "description", "priority", "jsonPath"}
SCHEMA_FIELDS = {
    "id", "$schema", "$ref", "description", "type", "format", "title", "default",
    "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength",
    "minLength", "pattern", "maxItems", "minItems", "uniqueItems", "multipleOf", "enum",
    "maxProperties", "minProperties", "required", "items", "allOf", "oneOf", "anyOf",
    "not", "properties", "additionalProperties", "patternProperties", "dependencies",
    "additionalItems", "definitions", "externalDocs", "example", "nullable",
    "x-kubernetes-preserve-unknown-fields", "x-kubernetes-embedded-resource",
    "x-kubernetes-int-or-string", "x-kubernetes-list-map-keys", "x-kubernetes-list-type",
    "x-kubernetes-map-type", "x-kubernetes-validations"}


def _unknown_keys(node, allowed, path, out):
    """Record and drop (as the real server's decoder does) unknown keys."""
    for k in [k for k in node if k not in allowed]:
        out.append("%s.%s" % (path, k))
        del node[k]


def _schema_unknown(node, path, out):
    if not isinstance(node, dict):
        return
    _unknown_keys(node, SCHEMA_FIELDS, path, out)
    for k in ("properties", "patternProperties", "definitions"):
        for name, sub in (node.get(k) or {}).items() if isinstance(node.get(k), dict) else ():
            _schema_unknown(sub, "%s.%s.%s" % (path, k, name), out)
    for k in ("items", "additionalProperties", "additionalItems", "not"):
        _schema_unknown(node.get(k), "%s.%s" % (path, k), out)
    for k in ("allOf", "anyOf", "oneOf"):
        for i, sub in enumerate(node.get(k) or []):
            _schema_unknown(sub, "%s.%s[%d]" % (path, k, i), out)


def crd_unknown_fields(spec):
    """Unknown fields in a CRD's versions (printer columns and schemas), as
    the real server names them; they are removed from spec."""
    out = []
    if not isinstance(spec, dict):
        return out
    for i, v in enumerate(spec.get("versions") or []):
        if not isinstance(v, dict):
            continue
        base = "spec.versions[%d]" % i
        for j, col in enumerate(v.get("additionalPrinterColumns") or []):
            if isinstance(col, dict):
                _unknown_keys(col, PRINTER_COLUMN_FIELDS,
                              "%s.additionalPrinterColumns[%d]" % (base, j), out)
        sch = (v.get("schema") or {}).get("openAPIV3Schema")
        _schema_unknown(sch, base + ".schema.openAPIV3Schema", out)
    return out


def crd_to_type(crd):
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    served = [v for v in spec.get("versions") or [] if v.get("served", True)]
    storage = [v["name"] for v in spec.get("versions") or [] if v.get("storage")]
    vnames = [v["name"] for v in served]
    if storage and storage[0] in vnames:
        vnames.remove(storage[0])
        vnames.insert(0, storage[0])
    rt = ResType(spec["group"], vnames, names["plural"],
                 names.get("singular") or names["kind"].lower(), names["kind"],
                 spec.get("scope", "Namespaced") == "Namespaced",
                 status_sub=any("status" in (v.get("subresources") or {}) for v in served),
                 has_generation=True, short_names=names.get("shortNames") or [],
                 builtin=False, list_kind=names.get("listKind"), allow_unconditional=False,
                 return_deleted=True, categories=names.get("categories") or [])
    for v in served:
        rt.schemas[v["name"]] = (v.get("schema") or {}).get("openAPIV3Schema") or {
            "type": "object", "x-kubernetes-preserve-unknown-fields": True}
        rt.columns[v["name"]] = v.get("additionalPrinterColumns") or []
        rt.selectable_fields = [f.get("jsonPath", "") for f in v.get("selectableFields") or []]
    rt.crd_name = crd["metadata"]["name"]
    # Versions that are served keep per-version status subresource flags; one flag is enough
    # for the upstream CRDs (single version).
    return rt


# --------------------------------------------------------------------------- JSONPath


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


# --------------------------------------------------------------------------- watches


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


# --------------------------------------------------------------------------- state


class State:
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

    def _check_namespace(self, rt, ns, name, creating=True):
        if not rt.namespaced:
            return
        nsobj = self.objs[("", "namespaces")].get((None, ns))
        if nsobj is None:
            raise ApiError(404, "NotFound", 'namespaces "%s" not found' % ns,
                           {"name": ns, "kind": "namespaces"})
        if creating and nsobj["metadata"].get("deletionTimestamp"):
            raise ApiError(403, "Forbidden", '%s "%s" is forbidden: unable to create new '
                           'content in namespace %s because it is being terminated' % (
                               rt.gr(), name, ns),
                           {"name": name, "group": rt.group, "kind": rt.plural,
                            "causes": [{"reason": "NamespaceTerminating",
                                        "message": "namespace %s is being terminated" % ns,
                                        "field": "metadata.namespace"}]})

    # ---- validation and preparation

    def _validate_meta(self, rt, obj, name, creating):
        md = obj["metadata"]
        causes = []
        is_ns = rt.key == ("", "namespaces")
        if not name:
            causes.append(("FieldValueRequired", "metadata.name",
                           "Required value: name or generateName is required"))
        else:
            rx = DNS1123_LABEL if is_ns else DNS1123_SUB
            if rt.key in (("", "events"),) or rt.group == "rbac.authorization.k8s.io":
                rx = re.compile(r"^[^/%]+$")
            if not rx.match(name) or len(name) > (63 if is_ns else 253):
                if is_ns:
                    why = ("a lowercase RFC 1123 label must consist of lower case alphanumeric "
                           "characters or '-', and must start and end with an alphanumeric "
                           "character (e.g. 'my-name',  or '123-abc', regex used for "
                           "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
                else:
                    why = ("a lowercase RFC 1123 subdomain must consist of lower case "
                           "alphanumeric characters, '-' or '.', and must start and end with "
                           "an alphanumeric character (e.g. 'example.com', regex used for "
                           "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]"
                           "([-a-z0-9]*[a-z0-9])?)*')")
                causes.append(("FieldValueInvalid", "metadata.name",
                               "Invalid value: %s: %s" % (_jv(name), why)))
        labels = md.get("labels")
        if labels is not None:
            if not isinstance(labels, dict):
                causes.append(("FieldValueInvalid", "metadata.labels",
                               "Invalid value: must be a map"))
            else:
                for k, v in labels.items():
                    if not _valid_label_key(k):
                        causes.append(("FieldValueInvalid", "metadata.labels",
                                       "Invalid value: %s: name part must consist of "
                                       "alphanumeric characters, '-', '_' or '.'" % _jv(k)))
                    if not _valid_label_value(v):
                        causes.append(("FieldValueInvalid", "metadata.labels",
                                       "Invalid value: %s: a valid label must be an empty "
                                       "string or consist of alphanumeric characters, '-', "
                                       "'_' or '.', and must start and end with an "
                                       "alphanumeric character" % _jv(v)))
        ann = md.get("annotations")
        if ann is not None:
            if not isinstance(ann, dict) or any(not isinstance(v, str) for v in ann.values()):
                causes.append(("FieldValueInvalid", "metadata.annotations",
                               "Invalid value: annotations must be a map of strings"))
            elif sum(len(k) + len(v) for k, v in ann.items()) > 262144:
                causes.append(("FieldValueTooLong", "metadata.annotations",
                               "Too long: may not be more than 262144 bytes"))
        fins = md.get("finalizers")
        if fins is not None:
            if not isinstance(fins, list) or any(not isinstance(f, str) for f in fins):
                causes.append(("FieldValueInvalid", "metadata.finalizers",
                               "Invalid value: must be a list of strings"))
        refs = md.get("ownerReferences")
        if refs is not None:
            if not isinstance(refs, list):
                causes.append(("FieldValueInvalid", "metadata.ownerReferences",
                               "Invalid value: must be a list"))
            else:
                for i, r in enumerate(refs):
                    for f in ("apiVersion", "kind", "name", "uid"):
                        if not isinstance(r, dict) or not r.get(f):
                            causes.append(("FieldValueRequired",
                                           "metadata.ownerReferences[%d].%s" % (i, f),
                                           "Required value"))
                if sum(1 for r in refs if isinstance(r, dict) and r.get("controller")) > 1:
                    causes.append(("FieldValueInvalid", "metadata.ownerReferences",
                                   "Invalid value: Only one reference can have Controller set "
                                   "to true"))
        if causes:
            raise invalid(rt.kind_group(), name or md.get("generateName", ""), causes)

    def _prepare_body(self, rt, obj, name, fv, warnings, version):
        """Type-specific normalisation and validation of a full object (lock not needed)."""
        if rt.key == ("", "secrets"):
            data = obj.get("data")
            if data is None:
                data = {}
            if not isinstance(data, dict):
                raise bad_request("Secret in version \"v1\" cannot be handled as a Secret: "
                                  "data must be a map")
            for k, v in list(data.items()):
                if v is None:
                    v = data[k] = ""
                if not isinstance(v, str):
                    raise bad_request("Secret in version \"v1\" cannot be handled as a "
                                      "Secret: json: cannot unmarshal %s into Go struct field "
                                      "Secret.data of type []uint8" % _type_name(v))
                try:
                    base64.b64decode(v, validate=True)
                except Exception:  # noqa: BLE001 - binascii.Error and friends
                    raise bad_request("Secret in version \"v1\" cannot be handled as a "
                                      "Secret: illegal base64 data at input byte %d" %
                                      _bad_b64_pos(v))
            sd = obj.pop("stringData", None)
            if sd:
                for k, v in sd.items():
                    data[k] = base64.b64encode(str(v).encode()).decode()
            causes = [("FieldValueInvalid", "data[%s]" % k, "Invalid value: %s: a valid "
                       "config key must consist of alphanumeric characters, '-', '_' or '.'"
                       % _jv(k)) for k in data if not SECRET_KEY.match(k)]
            if causes:
                raise invalid(rt.kind_group(), name, causes)
            if data:
                obj["data"] = data
            else:
                obj.pop("data", None)
            obj.setdefault("type", "Opaque")
        elif rt.key == ("", "configmaps"):
            for fld in ("data", "binaryData"):
                d = obj.get(fld)
                if d is not None and (not isinstance(d, dict) or
                                      any(not isinstance(v, str) for v in d.values())):
                    raise bad_request('ConfigMap in version "v1" cannot be handled as a '
                                      'ConfigMap: %s must be a map of strings' % fld)
        elif rt.key == ("apiextensions.k8s.io", "customresourcedefinitions"):
            unknown = crd_unknown_fields(obj.get("spec"))
            if unknown and fv == "Strict":
                raise bad_request('CustomResourceDefinition in version "v1" cannot be handled '
                                  'as a CustomResourceDefinition: strict decoding error: %s'
                                  % ", ".join('unknown field "%s"' % f for f in unknown))
            if unknown and fv != "Ignore":
                warnings.extend('unknown field "%s"' % f for f in unknown)
            self._validate_crd(rt, obj, name)
        elif not rt.builtin:
            schema = rt.schemas.get(version) or rt.schemas.get(rt.storage_version)
            if schema:
                unknown = []
                pruned = prune_and_default(obj, schema, [], unknown, root=True)
                obj.clear()
                obj.update(pruned)
                if unknown:
                    fields = ['unknown field "%s"' % fmt_path(p) for p in unknown]
                    if fv == "Strict":
                        raise bad_request('%s in version "%s" cannot be handled as a %s: '
                                          'strict decoding error: %s' % (
                                              rt.kind, version, rt.kind, ", ".join(fields)))
                    if fv != "Ignore":
                        warnings.extend(fields)
                causes = schema_causes(rt.validator(version) or
                                       rt.validator(rt.storage_version), obj)
                extra_checks(obj, schema, [], causes)
                if causes:
                    raise invalid(rt.kind_group(), name, causes)
        return obj

    def _validate_crd(self, rt, obj, name):
        spec = obj.get("spec")
        causes = []
        if not isinstance(spec, dict):
            raise invalid(rt.kind_group(), name, [("FieldValueRequired", "spec",
                                                   "Required value")])
        names = spec.get("names") or {}
        for f in ("plural", "kind"):
            if not names.get(f):
                causes.append(("FieldValueRequired", "spec.names." + f, "Required value"))
        if not spec.get("group"):
            causes.append(("FieldValueRequired", "spec.group", "Required value"))
        if spec.get("scope") not in ("Namespaced", "Cluster"):
            causes.append(("FieldValueNotSupported", "spec.scope", "Unsupported value: %s: "
                           'supported values: "Cluster", "Namespaced"' % _jv(spec.get("scope"))))
        vers = spec.get("versions")
        if not isinstance(vers, list) or not vers:
            causes.append(("FieldValueRequired", "spec.versions", "Required value"))
        else:
            if sum(1 for v in vers if isinstance(v, dict) and v.get("storage")) != 1:
                causes.append(("FieldValueInvalid", "spec.versions",
                               "Invalid value: must have exactly one version marked as storage "
                               "version"))
            for i, v in enumerate(vers):
                if not isinstance(v, dict) or not v.get("name"):
                    causes.append(("FieldValueRequired", "spec.versions[%d].name" % i,
                                   "Required value"))
                    continue
                sch = (v.get("schema") or {}).get("openAPIV3Schema")
                if sch is not None:
                    try:
                        K8sValidator.check_schema(to_jsonschema(sch))
                    except jsonschema.SchemaError as e:
                        causes.append(("FieldValueInvalid",
                                       "spec.versions[%d].schema.openAPIV3Schema" % i,
                                       "Invalid value: %s" % e.message))
        if names.get("plural") and spec.get("group") and \
                name != "%s.%s" % (names["plural"], spec["group"]):
            causes.append(("FieldValueInvalid", "metadata.name", 'Invalid value: %s: must be '
                           'spec.names.plural+"."+spec.group' % _jv(name)))
        if not causes and spec.get("group") and names.get("plural"):
            existing = self.types.get((spec["group"], names["plural"]))
            if existing is not None and (existing.builtin or existing.crd_name != name):
                causes.append(("FieldValueInvalid", "spec.names.plural",
                               "Invalid value: %s: already in use" % _jv(names["plural"])))
        if causes:
            raise invalid(rt.kind_group(), name, causes)

    def _after_crd_write(self, obj):
        if obj["metadata"].get("deletionTimestamp"):
            return
        rt = crd_to_type(obj)
        self._register(rt)

    def _unregister_crd(self, crd):
        spec = crd.get("spec") or {}
        key = (spec.get("group"), (spec.get("names") or {}).get("plural"))
        rt = self.types.get(key)
        if rt is None or rt.builtin:
            return
        for o in list(self.objs.get(key, {}).values()):
            self._remove(rt, o)
        for w in list(self.watchers.get(key, ())):
            w.drop()
        self.types.pop(key, None)
        self.objs.pop(key, None)
        self.watchers.pop(key, None)
        self.openapi_gen += 1

    @staticmethod
    def _crd_status(obj):
        ts = now_ts()
        names = dict(obj["spec"]["names"])
        names.setdefault("singular", names["kind"].lower())
        names.setdefault("listKind", names["kind"] + "List")
        return {"acceptedNames": names,
                "conditions": [
                    {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
                     "message": "no conflicts found", "lastTransitionTime": ts},
                    {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
                     "message": "the initial names have been accepted",
                     "lastTransitionTime": ts}],
                "storedVersions": [v["name"] for v in obj["spec"]["versions"]
                                   if v.get("storage")]}

    @staticmethod
    def _check_kind(rt, obj, version):
        if not isinstance(obj, dict):
            raise bad_request("the body of the request must be a JSON object")
        kind, av = obj.get("kind"), obj.get("apiVersion")
        if kind and kind != rt.kind:
            raise bad_request('%s in version "%s" cannot be handled as a %s: the kind in the '
                              'data (%s) does not match the expected kind (%s)' % (
                                  kind, version, rt.kind, kind, rt.kind))
        if av and av != rt.api_version(version):
            raise bad_request("the API version in the data (%s) does not match the expected "
                              "API version (%s)" % (av, rt.api_version(version)))
        obj["kind"] = rt.kind
        obj["apiVersion"] = rt.api_version()
        md = obj.setdefault("metadata", {})
        if not isinstance(md, dict):
            raise bad_request("metadata must be an object")
        md.pop("managedFields", None)
        md.pop("selfLink", None)

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

    # ---- garbage collection (run by a background thread)

    def gc_pass(self):
        """One pass; returns True if anything changed."""
        changed = False
        with self.lock:
            # Namespaces being terminated.
            nstype = self.types[("", "namespaces")]
            for nsobj in list(self.objs[nstype.key].values()):
                if not nsobj["metadata"].get("deletionTimestamp"):
                    continue
                nsname = nsobj["metadata"]["name"]
                remaining = 0
                for rt in list(self.types.values()):
                    if not rt.namespaced:
                        continue
                    for (ons, _), o in list(self.objs[rt.key].items()):
                        if ons != nsname:
                            continue
                        remaining += 1
                        if not o["metadata"].get("deletionTimestamp"):
                            self.delete(rt, ons, o["metadata"]["name"], {})
                            changed = True
                if remaining == 0:
                    spec_f = (nsobj.get("spec") or {}).get("finalizers") or []
                    if spec_f:
                        new = jcopy(nsobj)
                        new["spec"]["finalizers"] = []
                        self._store(nstype, new, "MODIFIED", nsobj)
                        nsobj = new
                        changed = True
                    if not nsobj["metadata"].get("finalizers"):
                        self._remove(nstype, nsobj)
                        changed = True
            # Owner references, foreground and orphan finalizers.
            dependents = {}
            for rt in list(self.types.values()):
                for o in list(self.objs[rt.key].values()):
                    for ref in o["metadata"].get("ownerReferences") or []:
                        if isinstance(ref, dict):
                            dependents.setdefault(ref.get("uid"), []).append((rt, o))
            for rt in list(self.types.values()):
                for o in list(self.objs[rt.key].values()):
                    md = o["metadata"]
                    fins = md.get("finalizers") or []
                    if not md.get("deletionTimestamp"):
                        continue
                    deps = dependents.get(md["uid"], [])
                    if "orphan" in fins:
                        for drt, d in deps:
                            cur = self.objs[drt.key].get((d["metadata"].get("namespace"),
                                                          d["metadata"]["name"]))
                            if cur is None:
                                continue
                            nd = jcopy(cur)
                            nd["metadata"]["ownerReferences"] = [
                                r for r in cur["metadata"].get("ownerReferences") or []
                                if r.get("uid") != md["uid"]]
                            if not nd["metadata"]["ownerReferences"]:
                                del nd["metadata"]["ownerReferences"]
                            self._commit_update(drt, cur, nd, False)
                        self._drop_finalizer(rt, o, "orphan")
                        changed = True
                    elif "foregroundDeletion" in fins:
                        live = [(drt, d) for drt, d in deps
                                if (d["metadata"].get("namespace"), d["metadata"]["name"])
                                in self.objs[drt.key]]
                        if not live:
                            self._drop_finalizer(rt, o, "foregroundDeletion")
                            changed = True
                        for drt, d in live:
                            if not d["metadata"].get("deletionTimestamp"):
                                self.delete(drt, d["metadata"].get("namespace"),
                                            d["metadata"]["name"],
                                            {"propagationPolicy": "Foreground"})
                                changed = True
            for rt in list(self.types.values()):
                for o in list(self.objs[rt.key].values()):
                    md = o["metadata"]
                    refs = md.get("ownerReferences")
                    if not refs:
                        continue
                    alive = [r for r in refs if isinstance(r, dict) and r.get("uid") in self.uids]
                    if len(alive) == len(refs):
                        continue
                    if alive:
                        nd = jcopy(o)
                        nd["metadata"]["ownerReferences"] = alive
                        self._commit_update(rt, o, nd, False)
                        changed = True
                    elif not md.get("deletionTimestamp"):
                        self.delete(rt, md.get("namespace"), md["name"], {})
                        changed = True
        return changed

    def _drop_finalizer(self, rt, o, fin):
        cur = self.objs[rt.key].get((o["metadata"].get("namespace"), o["metadata"]["name"]))
        if cur is None:
            return
        nd = jcopy(cur)
        nd["metadata"]["finalizers"] = [f for f in cur["metadata"].get("finalizers") or []
                                        if f != fin]
        if not nd["metadata"]["finalizers"]:
            del nd["metadata"]["finalizers"]
        self._commit_update(rt, cur, nd, False)

    def gc_loop(self, interval):
        while True:
            self.gc_wake.wait(timeout=1.0)
            self.gc_wake.clear()
            try:
                while self.gc_pass():
                    pass
            except Exception as e:  # noqa: BLE001 - keep the collector alive
                print("kube_api: gc error: %r" % (e,), file=sys.stderr, flush=True)
            time.sleep(interval)


def _bad_b64_pos(v):
    for i, ch in enumerate(v):
        if not (ch.isalnum() or ch in "+/="):
            return i
    return len(v) - (len(v) % 4)


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


# --------------------------------------------------------------------------- tables

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


# --------------------------------------------------------------------------- openapi v3


def _schema_name(rt, version):
    if rt.builtin:
        grp = {"": "core", "coordination.k8s.io": "coordination", "apps": "apps",
               "rbac.authorization.k8s.io": "rbac",
               "apiextensions.k8s.io": "apiextensions"}.get(rt.group, rt.group)
        return "io.k8s.api.%s.%s.%s" % (grp, version, rt.kind)
    return "%s.%s.%s" % (".".join(reversed(rt.group.split("."))), version, rt.kind)


def openapi_gv_doc(types, group, version):
    paths, schemas = {}, {}
    base = "/api/%s" % version if not group else "/apis/%s/%s" % (group, version)
    fv = {"name": "fieldValidation", "in": "query", "uniqueItems": True,
          "description": "fieldValidation instructs the server on how to handle objects in "
          "the request (POST/PUT/PATCH) containing unknown or duplicate fields.",
          "schema": {"type": "string", "uniqueItems": True}}
    common = [{"name": n, "in": "query", "schema": {"type": "string"}}
              for n in ("dryRun", "fieldManager")]
    for rt in types:
        if version not in rt.versions:
            continue
        sname = _schema_name(rt, version)
        gvk = {"group": rt.group, "version": version, "kind": rt.kind}
        sch = rt.schemas.get(version) or {"type": "object",
                                          "x-kubernetes-preserve-unknown-fields": True}
        sch = dict(sch)
        sch["x-kubernetes-group-version-kind"] = [gvk]
        schemas[sname] = sch
        ref = {"$ref": "#/components/schemas/%s" % sname}
        body = {"content": {"application/json": {"schema": ref},
                            "application/yaml": {"schema": ref}}, "required": True}
        patch_types = ["application/json-patch+json", "application/merge-patch+json",
                       "application/apply-patch+yaml"]
        pbody = {"content": {t: {"schema": {"type": "object"}} for t in patch_types},
                 "required": True}
        resp = {"200": {"description": "OK", "content": {"application/json": {"schema": ref}}}}

        def op(action, extra_params=(), request=None, _gvk=gvk):
            o = {"operationId": "%s%s" % (action, rt.kind), "x-kubernetes-action": action,
                 "x-kubernetes-group-version-kind": _gvk, "responses": resp,
                 "parameters": list(extra_params)}
            if request:
                o["requestBody"] = request
            return o
        coll = "%s/%s" % (base, rt.plural) if not rt.namespaced else \
            "%s/namespaces/{namespace}/%s" % (base, rt.plural)
        item = coll + "/{name}"
        paths[coll] = {"get": op("list"), "post": op("post", [fv] + common, body),
                       "delete": op("deletecollection")}
        paths[item] = {"get": op("get"), "put": op("put", [fv] + common, body),
                       "patch": op("patch", [fv] + common, pbody), "delete": op("delete")}
        if rt.status_sub:
            paths[item + "/status"] = {"get": op("get"), "put": op("put", [fv] + common, body),
                                       "patch": op("patch", [fv] + common, pbody)}
        if rt.namespaced:
            paths["%s/%s" % (base, rt.plural)] = {"get": op("list")}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.32.0"},
            "paths": paths, "components": {"schemas": schemas}}


# --------------------------------------------------------------------------- HTTP


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, socket.timeout, OSError)):
            return
        super().handle_error(request, client_address)


class Fake:
    """Everything the handler needs besides the object state."""

    def __init__(self, args):
        self.args = args
        self.state = State(history=args.history)
        self.token = None
        self.ssl_ctx = None
        self.log = []
        self.log_seq = 0
        self.log_lock = threading.Lock()
        self.fail_rules = []
        self.latency_rules = []
        self.rules_lock = threading.Lock()
        self.watches = {}
        self.openapi_cache = {}

    def add_log(self, entry):
        with self.log_lock:
            self.log_seq += 1
            entry["seq"] = self.log_seq
            self.log.append(entry)
            if len(self.log) > 50000:
                del self.log[:10000]
        if self.args.log_requests:
            print("kube_api: %s %s%s -> %s" % (entry["method"], entry["path"],
                                              "?" + entry["query"] if entry["query"] else "",
                                              entry["status"]), file=sys.stderr, flush=True)


def _accepts_table(accept):
    for part in (accept or "").split(","):
        p = part.replace(" ", "")
        if "as=Table" in p and "g=meta.k8s.io" in p:
            return True
    return False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kube-api-fake/1.0"
    fake = None  # set in main

    def log_message(self, fmt, *args):  # noqa: D401 - silence default logging
        pass

    def setup(self):
        try:
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        ctx = self.fake.ssl_ctx
        if ctx is not None:
            self.request.settimeout(10)
            self.request = ctx.wrap_socket(self.request, server_side=True)
            self.request.settimeout(None)
        super().setup()

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def do_DELETE(self):
        self.dispatch("DELETE")

    # ---- plumbing

    def read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if te == "chunked":
            data = b""
            while True:
                line = self.rfile.readline()
                size = int(line.strip().split(b";")[0] or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send_response(self, code, message=None):
        # Log the request before any byte of the response leaves, so a client
        # that reads /fake/requests right after its answer finds the entry.
        entry = getattr(self, "entry", None)
        if entry is not None and entry["status"] is None and \
                not entry["path"].startswith("/fake/"):
            entry["status"] = code
            self.fake.add_log(entry)
        super().send_response(code, message)

    def send_json(self, code, obj, headers=None):
        body = json.dumps(obj, separators=(",", ":")).encode()
        self.status = code
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache, private")
        for k, v in (headers or {}).items():
            if isinstance(v, list):
                for x in v:
                    self.send_header(k, x)
            else:
                self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def send_text(self, code, text):
        body = text.encode()
        self.status = code
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_error_status(self, err):
        headers = dict(err.headers)
        self.send_json(err.code, err.status(), headers)

    def dispatch(self, method):
        self.status = 0
        url = urllib.parse.urlsplit(self.path)
        path, rawq = url.path, url.query
        self.q = {k: v[-1] for k, v in urllib.parse.parse_qs(rawq, keep_blank_values=True)
                  .items()}
        try:
            body = self.read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        entry = {"time": time.time(), "method": method, "path": path, "query": rawq,
                 "content_type": ctype, "watch": self.q.get("watch") in ("true", "1"),
                 "user_agent": self.headers.get("User-Agent") or "", "status": None}
        if method in ("POST", "PUT", "PATCH", "DELETE") and body and len(body) < 65536 and \
                not path.startswith("/fake/"):
            try:
                entry["body"] = json.loads(body)
            except ValueError:
                entry["body"] = body.decode("utf-8", "replace")
        self.entry = entry
        logged = False
        try:
            if path.startswith("/fake/"):
                self.control(method, path, body)
                return
            self.apply_latency(method, path)
            if self.fake.token is not None:
                auth = self.headers.get("Authorization") or ""
                if auth != "Bearer " + self.fake.token:
                    raise ApiError(401, "Unauthorized", "Unauthorized")
            rule = self.match_fail(method, path, rawq)
            if rule is not None:
                if rule.get("drop"):
                    entry["status"] = "dropped"
                    self.fake.add_log(entry)
                    logged = True
                    self.abort_connection()
                    return
                code = int(rule.get("code", 500))
                hdrs = {}
                details = None
                if rule.get("retry_after") is not None:
                    hdrs["Retry-After"] = str(int(rule["retry_after"]))
                    details = {"retryAfterSeconds": int(rule["retry_after"])}
                raise ApiError(code, rule.get("reason") or REASONS.get(code, "Unknown"),
                               rule.get("message") or "injected failure (%d)" % code,
                               details, hdrs)
            self.route(method, path, body, ctype)
        except ApiError as e:
            self.send_error_status(e)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as e:  # noqa: BLE001 - turn bugs into 500s, keep serving
            import traceback
            traceback.print_exc()
            try:
                self.send_error_status(ApiError(500, "InternalError",
                                                "Internal error occurred: %r" % (e,)))
            except OSError:
                pass
        finally:
            if not logged and not path.startswith("/fake/") and entry["status"] is None:
                entry["status"] = self.status
                self.fake.add_log(entry)

    def abort_connection(self):
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       b"\x01\x00\x00\x00\x00\x00\x00\x00")
        except OSError:
            pass
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.connection.close()
        except OSError:
            pass

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
        for i in range(int(data.get("start", 0)), int(data.get("start", 0)) + int(data["count"])):
            obj = copy.deepcopy(data["template"])
            obj.setdefault("metadata", {})["name"] = "%s%05d" % (prefix, i)
            st.create(rt, data.get("namespace"), obj)
            created += 1
        return {"created": created, "resourceVersion": str(st.rv)}

    # ---- routing

    def route(self, method, path, body, ctype):
        st = self.fake.state
        parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/") if p != ""]
        if method == "GET":
            if path in ("/healthz", "/readyz", "/livez"):
                return self.send_text(200, "ok")
            if path == "/version":
                return self.send_json(200, {
                    "major": "1", "minor": "32", "gitVersion": "v1.32.0-fake",
                    "gitCommit": "0" * 40, "gitTreeState": "clean",
                    "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.23",
                    "compiler": "gc", "platform": "linux/amd64"})
            if parts and parts[0] == "openapi":
                return self.openapi(parts)
            if parts == ["api"]:
                return self.send_json(200, {
                    "kind": "APIVersions", "versions": ["v1"],
                    "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                    "serverAddress": "%s:%d" % (
                                                        self.fake.args.host,
                                                        self.server.server_address[1])}]})
            if parts == ["apis"]:
                return self.send_json(200, {"kind": "APIGroupList", "apiVersion": "v1",
                                            "groups": [self.group_obj(g, vs) for g, vs in
                                                       sorted(st.groups().items()) if g]})
            if len(parts) == 2 and parts[0] == "apis":
                vs = st.groups().get(parts[1])
                if vs is None:
                    raise ApiError(404, "NotFound", "the server could not find the requested "
                                   "resource")
                obj = self.group_obj(parts[1], vs)
                obj.update({"kind": "APIGroup", "apiVersion": "v1"})
                return self.send_json(200, obj)
            if parts == ["api", "v1"]:
                return self.send_json(200, self.resource_list("", "v1"))
            if len(parts) == 3 and parts[0] == "apis":
                if parts[2] not in st.groups().get(parts[1], []):
                    raise ApiError(404, "NotFound", "the server could not find the requested "
                                   "resource")
                return self.send_json(200, self.resource_list(parts[1], parts[2]))
        # resource paths
        if parts[:1] == ["api"] and len(parts) >= 3 and parts[1] == "v1":
            group, version, rest = "", "v1", parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 4:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if rest and rest[0] == "watch":
            rest = rest[1:]
            self.q["watch"] = "true"
        if not rest:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        ns = None
        if rest[0] == "namespaces" and len(rest) >= 3 and not (
                group == "" and len(rest) == 3 and rest[2] in ("status", "finalize")):
            ns, rest = rest[1], rest[2:]
        plural = rest[0]
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if len(rest) > 3:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        with st.lock:
            rt = st.lookup(group, version, plural)
        if rt is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if ns is not None and not rt.namespaced:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if sub is not None and not (sub == "status" and rt.status_sub):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if rt.namespaced and name is not None and ns is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if method in ("POST", "PUT", "PATCH") or (method == "DELETE" and body):
            if ctype in ("application/vnd.kubernetes.protobuf", "application/cbor") or \
                    ctype.startswith("application/vnd.kubernetes.protobuf"):
                raise ApiError(415, "UnsupportedMediaType",
                               'the body of the request was in an unknown format - accepted '
                               'media types include: application/json, application/yaml')
        dry = self.q.get("dryRun") == "All"
        fv = self.q.get("fieldValidation") or "Warn"
        if fv not in ("Strict", "Warn", "Ignore"):
            raise bad_request('fieldValidation parameter unsupported: "%s"' % fv)
        warnings = []
        hdrs = lambda: {"Warning": ['299 - "%s"' % w.replace('"', '\\"')  # noqa: E731
                                    for w in warnings]} if warnings else None
        if method == "GET":
            if name is None:
                if self.q.get("watch") in ("true", "1"):
                    return self.watch(rt, version, ns)
                return self.do_list(rt, version, ns)
            if self.q.get("watch") in ("true", "1"):
                self.q["fieldSelector"] = "metadata.name=" + name
                return self.watch(rt, version, ns)
            with st.lock:
                obj = st.get_obj(rt, ns, name)
            return self.send_obj(200, rt, version, obj, single=True)
        if method == "POST":
            if name is not None:
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this method "
                               "on the requested resource")
            if rt.namespaced and ns is None:
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this method "
                               "on the requested resource")
            obj = st.create(rt, ns, self.parse_body(body, ctype), version, fv, dry, warnings)
            return self.send_obj(201, rt, version, obj, headers=hdrs())
        if method == "PUT":
            if name is None:
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this method "
                               "on the requested resource")
            obj, created = st.update(rt, ns, name, self.parse_body(body, ctype), sub, version,
                                     fv, dry, warnings)
            return self.send_obj(201 if created else 200, rt, version, obj, headers=hdrs())
        if method == "PATCH":
            if name is None:
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this method "
                               "on the requested resource")
            if ctype == "application/apply-patch+yaml":
                raise ApiError(415, "UnsupportedMediaType",
                               "server-side apply (application/apply-patch+yaml) is not "
                               "implemented by this fake; accepted media types include: "
                               "application/json-patch+json, application/merge-patch+json" +
                               (", application/strategic-merge-patch+json" if rt.builtin
                                else ""))
            try:
                patch = json.loads(body or b"null")
            except ValueError as e:
                raise bad_request("error decoding patch: %s" % e)
            obj = st.patch(rt, ns, name, ctype, patch, sub, version, fv, dry, warnings)
            return self.send_obj(200, rt, version, obj, headers=hdrs())
        if method == "DELETE":
            opts = {}
            if body:
                try:
                    opts = json.loads(body)
                except ValueError:
                    raise bad_request("invalid DeleteOptions body")
                if not isinstance(opts, dict):
                    raise bad_request("invalid DeleteOptions body")
            for k in ("propagationPolicy",):
                if self.q.get(k):
                    opts[k] = self.q[k]
            if self.q.get("orphanDependents"):
                opts["orphanDependents"] = self.q["orphanDependents"] == "true"
            dry = dry or opts.get("dryRun") == ["All"]
            if sub is not None:
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this method "
                               "on the requested resource")
            if name is None:
                return self.delete_collection(rt, version, ns, opts, dry)
            obj, gone = st.delete(rt, ns, name, opts, dry)
            if gone and not rt.return_deleted:
                return self.send_json(200, {
                    "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                    "details": {"name": name, "group": rt.group, "kind": rt.plural,
                                "uid": obj["metadata"]["uid"]}})
            return self.send_obj(200, rt, version, obj)
        raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the "
                       "requested resource")

    def parse_body(self, body, ctype):
        if ctype in ("application/yaml", "application/x-yaml", "text/yaml"):
            try:
                return yaml.safe_load(body)
            except yaml.YAMLError as e:
                raise bad_request("error decoding YAML: %s" % e)
        if ctype not in ("", "application/json", "*/*"):
            raise ApiError(415, "UnsupportedMediaType",
                           'the body of the request was in an unknown format - accepted media '
                           'types include: application/json, application/yaml')
        try:
            obj = json.loads(body or b"null")
        except ValueError as e:
            raise bad_request("couldn't get version/kind; json parse error: %s" % e)
        if not isinstance(obj, dict):
            raise bad_request("the body of the request must be a JSON object")
        return obj

    def out_obj(self, rt, version, obj):
        if version != rt.storage_version:
            obj = dict(obj)
            obj["apiVersion"] = rt.api_version(version)
        return obj

    def send_obj(self, code, rt, version, obj, single=False, headers=None):
        if single and _accepts_table(self.headers.get("Accept")):
            return self.send_json(code, build_table(rt, version, [obj],
                                                    obj["metadata"]["resourceVersion"],
                                                    self.q.get("includeObject")), headers)
        return self.send_json(code, self.out_obj(rt, version, obj), headers)

    def selectors(self, rt):
        lsel = LabelSelector(self.q.get("labelSelector"))
        fsel = FieldSelector(self.q.get("fieldSelector"), field_getters(rt))
        return lsel, fsel

    def do_list(self, rt, version, ns):
        lsel, fsel = self.selectors(rt)
        try:
            limit = int(self.q.get("limit") or 0)
        except ValueError:
            raise bad_request("invalid limit")
        if self.q.get("resourceVersion") == "0" and not self.q.get("continue"):
            limit = 0  # served from the watch cache, which does not paginate
        rv, items, cont, rest = self.fake.state.list(rt, ns, lsel, fsel, max(limit, 0),
                                                     self.q.get("continue"))
        remaining = rest if (cont and lsel.empty() and fsel.empty()) else None
        if _accepts_table(self.headers.get("Accept")):
            return self.send_json(200, build_table(rt, version, items, rv,
                                                   self.q.get("includeObject"), cont,
                                                   remaining))
        md = {"resourceVersion": str(rv)}
        if cont:
            md["continue"] = cont
        if remaining:
            md["remainingItemCount"] = remaining
        if rt.builtin:
            items = [{k: v for k, v in o.items() if k not in ("kind", "apiVersion")}
                     for o in items]
        else:
            items = [self.out_obj(rt, version, o) for o in items]
        return self.send_json(200, {"kind": rt.list_kind, "apiVersion": rt.api_version(version),
                                    "metadata": md, "items": items})

    def delete_collection(self, rt, version, ns, opts, dry):
        lsel, fsel = self.selectors(rt)
        st = self.fake.state
        with st.lock:
            objs = st.list_objs(rt, ns, lsel, fsel)
            done = []
            for o in objs:
                try:
                    d, _ = st.delete(rt, o["metadata"].get("namespace"), o["metadata"]["name"],
                                     opts, dry)
                    done.append(d)
                except ApiError:
                    pass
            rv = st.rv
        items = [self.out_obj(rt, version, o) for o in done]
        return self.send_json(200, {"kind": rt.list_kind, "apiVersion": rt.api_version(version),
                                    "metadata": {"resourceVersion": str(rv)}, "items": items})

    # ---- discovery and openapi

    @staticmethod
    def group_obj(g, vs):
        gvs = [{"groupVersion": "%s/%s" % (g, v), "version": v} for v in vs]
        return {"name": g, "versions": gvs, "preferredVersion": gvs[0]}

    def resource_list(self, group, version):
        st = self.fake.state
        res = []
        with st.lock:
            types = sorted((rt for rt in st.types.values()
                            if rt.group == group and version in rt.versions),
                           key=lambda r: r.plural)
        for rt in types:
            e = {"name": rt.plural, "singularName": rt.singular, "namespaced": rt.namespaced,
                 "kind": rt.kind, "verbs": ["create", "delete", "deletecollection", "get",
                                            "list", "patch", "update", "watch"],
                 "storageVersionHash": hashlib.sha256(rt.gr().encode()).hexdigest()[:11]}
            if rt.short_names:
                e["shortNames"] = rt.short_names
            if rt.categories:
                e["categories"] = rt.categories
            res.append(e)
            if rt.status_sub:
                res.append({"name": rt.plural + "/status", "singularName": "",
                            "namespaced": rt.namespaced, "kind": rt.kind,
                            "verbs": ["get", "patch", "update"]})
        return {"kind": "APIResourceList", "apiVersion": "v1",
                "groupVersion": "%s/%s" % (group, version) if group else version,
                "resources": res}

    def openapi(self, parts):
        st = self.fake.state
        if parts[:2] != ["openapi", "v3"]:
            raise ApiError(404, "NotFound", "the server could not find the requested resource "
                           "(only /openapi/v3 is served)")
        with st.lock:
            gen = st.openapi_gen
            cache = self.fake.openapi_cache
            if cache.get("gen") != gen:
                docs = {}
                types = list(st.types.values())
                for g, vs in st.groups().items():
                    for v in vs:
                        key = "api/%s" % v if not g else "apis/%s/%s" % (g, v)
                        doc = json.dumps(openapi_gv_doc(types, g, v)).encode()
                        docs[key] = (doc, hashlib.sha512(doc).hexdigest().upper()[:128])
                cache.clear()
                cache.update({"gen": gen, "docs": docs})
            docs = cache["docs"]
        if len(parts) == 2:
            return self.send_json(200, {"paths": {
                k: {"serverRelativeURL": "/openapi/v3/%s?hash=%s" % (k, h)}
                for k, (_, h) in sorted(docs.items())}})
        key = "/".join(parts[2:])
        if key not in docs:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        body = docs[key][0]
        self.status = 200
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "public, immutable")
        self.end_headers()
        self.wfile.write(body)

    # ---- watch

    def write_chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def write_event(self, etype, obj, rt, version):
        if obj is not None and rt is not None:
            obj = self.out_obj(rt, version, obj)
            if getattr(self, "table_watch", False):
                obj = build_table(rt, version, [obj], obj["metadata"]["resourceVersion"],
                                  self.q.get("includeObject"))
        self.write_chunk(json.dumps({"type": etype, "object": obj},
                                    separators=(",", ":")).encode() + b"\n")

    def peer_closed(self):
        try:
            r, _, _ = select.select([self.connection], [], [], 0)
        except (OSError, ValueError):
            return True
        if not r:
            return False
        try:
            self.connection.settimeout(0)
            data = self.connection.recv(1)
            return data == b""
        except (ssl.SSLWantReadError, BlockingIOError):
            return False
        except OSError:
            return True
        finally:
            try:
                self.connection.settimeout(None)
            except OSError:
                pass

    def watch(self, rt, version, ns):
        fake, st = self.fake, self.fake.state
        lsel, fsel = self.selectors(rt)
        q = self.q
        rv_s = q.get("resourceVersion") or ""
        bookmarks = q.get("allowWatchBookmarks") in ("true", "1")
        initial_events = q.get("sendInitialEvents") in ("true", "1")
        try:
            timeout = float(q.get("timeoutSeconds") or 1800)
        except ValueError:
            raise bad_request("invalid timeoutSeconds")
        if rv_s not in ("", "0"):
            try:
                start = int(rv_s)
            except ValueError:
                raise bad_request('invalid resource version: "%s"' % rv_s)
        else:
            start = None
        too_old = None
        with st.lock:
            st.watch_seq += 1
            w = Watcher(st.watch_seq, rt.key, ns if rt.namespaced else None, lsel, fsel,
                        self.entry["path"], self.entry["query"])
            initial = []
            if start is None or initial_events:
                for o in st.list_objs(rt, w.namespace, lsel, fsel):
                    initial.append(("ADDED", o))
                last_rv = st.rv
            elif start < st.horizon:
                too_old = status_obj(410, "Expired", "too old resource version: %d (%d)" % (
                    start, st.horizon + 1))
            else:
                i = bisect.bisect_right(st.history_rvs, start)
                for ev in st.history[i:]:
                    if ev[1] != rt.key:
                        continue
                    if w.namespace is not None and ev[3]["metadata"].get("namespace") != \
                            w.namespace:
                        continue
                    t = w.translate(ev)
                    if t:
                        initial.append(t)
                last_rv = max(start, st.rv)
            if too_old is None:
                st.watchers[rt.key].add(w)
                fake.watches[w.id] = w
        if too_old is not None and fake.args.watch_too_old == "http":
            raise ApiError(410, "Expired", too_old["message"])
        self.status = 200
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.entry["status"] = 200
        fake.add_log(self.entry)
        if too_old is not None:
            self.write_event("ERROR", too_old, None, version)
            self.wfile.write(b"0\r\n\r\n")
            return
        av = rt.api_version(version)
        self.table_watch = _accepts_table(self.headers.get("Accept"))

        def bookmark(rv, annotations=None):
            md = {"resourceVersion": str(rv)}
            if annotations:
                md["annotations"] = annotations
            self.write_event("BOOKMARK", {"kind": rt.kind, "apiVersion": av, "metadata": md},
                             None, version)
        dropped = False
        try:
            for etype, obj in initial:
                self.write_event(etype, obj, rt, version)
            if initial_events:
                bookmark(last_rv, {"k8s.io/initial-events-end": "true"})
            deadline = time.monotonic() + timeout
            interval = fake.args.bookmark_interval
            next_bm = time.monotonic() + interval
            next_peer = time.monotonic() + 1.0
            while True:
                now = time.monotonic()
                if now >= deadline:
                    break
                wait_until = min(deadline, next_bm if bookmarks else deadline, next_peer)
                with w.cond:
                    if not w.queue and not w.dropped:
                        w.cond.wait(max(0.0, wait_until - now))
                    evs = list(w.queue)
                    w.queue.clear()
                    dropped = w.dropped
                if dropped:
                    break
                for ev in evs:
                    t = w.translate(ev)
                    if t:
                        self.write_event(t[0], t[1], rt, version)
                now = time.monotonic()
                if bookmarks and now >= next_bm:
                    with st.lock:
                        cur = st.rv
                    with w.cond:
                        evs = list(w.queue)
                        w.queue.clear()
                    for ev in evs:
                        t = w.translate(ev)
                        if t:
                            self.write_event(t[0], t[1], rt, version)
                    last = max([cur] + [ev[0] for ev in evs])
                    bookmark(last)
                    next_bm = now + interval
                if now >= next_peer:
                    if self.peer_closed():
                        dropped = True
                        break
                    next_peer = now + 1.0
            if dropped:
                self.abort_connection()
            else:
                self.wfile.write(b"0\r\n\r\n")
        except OSError:
            self.close_connection = True
        finally:
            with st.lock:
                st.watchers.get(rt.key, set()).discard(w)
                fake.watches.pop(w.id, None)


# --------------------------------------------------------------------------- TLS, main


def make_certs(tmp):
    def run(*a):
        subprocess.run(["openssl"] + list(a), cwd=tmp, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
        "-subj", "/CN=kube-api-fake-ca",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    with open(os.path.join(tmp, "ext.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                "basicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "ext.cnf")
    return os.path.join(tmp, "ca.crt"), os.path.join(tmp, "server.crt"), \
        os.path.join(tmp, "server.key")


def write_kubeconfig(path, url, ca_file, token):
    cluster = {"server": url}
    if ca_file:
        with open(ca_file, "rb") as f:
            cluster["certificate-authority-data"] = base64.b64encode(f.read()).decode()
    user = {"token": token} if token else {}
    cfg = {"apiVersion": "v1", "kind": "Config", "preferences": {},
           "clusters": [{"name": "fake", "cluster": cluster}],
           "users": [{"name": "fake", "user": user}],
           "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake",
                                                     "namespace": "default"}}],
           "current-context": "fake"}
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        yaml.safe_dump(cfg, f, default_flow_style=False)
    os.replace(tmp, path)


def load_crds(state, where):
    files = []
    if os.path.isdir(where):
        files = sorted(os.path.join(where, f) for f in os.listdir(where)
                       if f.endswith((".yaml", ".yml", ".json")))
    else:
        files = [where]
    rt = state.types[("apiextensions.k8s.io", "customresourcedefinitions")]
    for fn in files:
        with open(fn) as f:
            for doc in yaml.safe_load_all(f):
                if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                    state.create(rt, None, doc, fv="Ignore")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--tls", action="store_true")
    ap.add_argument("--token", default=None)
    ap.add_argument("--kubeconfig-out", default=None)
    ap.add_argument("--crds", default=None)
    ap.add_argument("--log-requests", action="store_true")
    ap.add_argument("--bookmark-interval", type=float, default=1.0)
    ap.add_argument("--history", type=int, default=10000)
    ap.add_argument("--watch-too-old", choices=["event", "http"], default="event")
    ap.add_argument("--gc-interval", type=float, default=0.05)
    args = ap.parse_args(argv)
    fake = Fake(args)
    tmp = None
    ca_file = None
    if args.tls:
        tmp = tempfile.mkdtemp(prefix="kube-api-fake-")
        ca_file, crt, key = make_certs(tmp)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(crt, key)
        ctx.set_alpn_protocols(["http/1.1"])
        fake.ssl_ctx = ctx
        fake.token = args.token or secrets.token_hex(24)
    elif args.token:
        fake.token = args.token
    if args.crds:
        load_crds(fake.state, args.crds)
    Handler.fake = fake
    httpd = Server((args.host, args.port), Handler)
    port = httpd.server_address[1]
    url = "%s://%s:%d" % ("https" if args.tls else "http", args.host, port)
    if args.kubeconfig_out:
        write_kubeconfig(args.kubeconfig_out, url, ca_file, fake.token)
    threading.Thread(target=fake.state.gc_loop, args=(args.gc_interval,), daemon=True).start()
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    print("port %d" % port, flush=True)
    print("url %s" % url, flush=True)
    if ca_file:
        print("ca %s" % ca_file, flush=True)
    print("ready", flush=True)
    stop = threading.Event()
    import signal

    def on_signal(signum, frame):
        stop.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        httpd.shutdown()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""HTTP: the threaded server, the stand-in's shared context (Fake: state,
token, TLS context, request log, fault rules) and the request handler
(plumbing, authentication, routing of the Kubernetes paths, list and
deletecollection). Watches, discovery and the control API are mixins."""

import json
import socket
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml

from .common import ApiError, REASONS, bad_request
from .control import Control
from .discovery import Discovery
from .selection import FieldSelector, LabelSelector, field_getters
from .store import State
from .tables import _accepts_table, build_table
from .watch import Watching


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


class Handler(Control, Discovery, Watching, BaseHTTPRequestHandler):
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

"""Watches: newline-delimited JSON events over chunked transfer encoding,
replay from the history, bookmarks, initial events, selectors, as a mixin
of server.Handler."""

import bisect
import json
import select
import ssl
import time

from .common import ApiError, bad_request, status_obj
from .store import Watcher
from .tables import _accepts_table, build_table


class Watching:
    """Mixin of Handler: the watch verb."""

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

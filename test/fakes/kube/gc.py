"""The garbage collector (a background thread): namespace deletion,
ownerReferences (Background, Foreground, Orphan), as a mixin of
store.State."""

import sys
import time

from .common import jcopy


class GarbageCollector:
    """Mixin of State: the collector's passes and its thread."""

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

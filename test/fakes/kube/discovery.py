"""Discovery (/api, /apis, APIResourceList) and OpenAPI v3 documents
generated from the registered types, as a mixin of server.Handler."""

import hashlib
import json

from .common import ApiError


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


class Discovery:
    """Mixin of Handler: discovery and /openapi/v3 answers."""

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

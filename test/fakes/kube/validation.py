"""Validation and normalisation of object bodies before they are stored
(metadata, Secrets, ConfigMaps, CRDs, custom resources against their
schema), as a mixin of store.State; the store's lock is held where a
method says so."""

import base64
import re

import jsonschema

from .common import ApiError, DNS1123_LABEL, DNS1123_SUB, SECRET_KEY, bad_request, now_ts
from .resources import crd_to_type
from .schema import (K8sValidator, _jv, _type_name, crd_unknown_fields, extra_checks,
                     fmt_path, invalid, prune_and_default, schema_causes, to_jsonschema)
from .selection import _valid_label_key, _valid_label_value


class Validation:
    """Mixin of State: checks a body and prepares it for the store."""

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
        elif not rt.builtin and getattr(self, "schema_checks", True):
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


def _bad_b64_pos(v):
    for i, ch in enumerate(v):
        if not (ch.isalnum() or ch in "+/="):
            return i
    return len(v) - (len(v) % 4)

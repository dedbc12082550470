"""CRD OpenAPI v3 schemas: translation to JSON Schema (jsonschema, draft 4),
pruning and defaulting like the API server, the checks jsonschema lacks
(date-time, list-type map/set), 422 Invalid causes, and the unknown fields
of a CRD itself (refused under fieldValidation=Strict)."""

import copy
import json

import jsonschema

from .common import ApiError, DATE_TIME


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

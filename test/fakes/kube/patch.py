"""The three patch types: JSON merge patch (RFC 7386), JSON patch (RFC 6902,
test included) and the strategic-merge-patch subset described in the
package docstring (built-in kinds only)."""

import copy

from .common import ApiError, bad_request


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

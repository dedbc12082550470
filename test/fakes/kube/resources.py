"""Resource types: the built-in kinds served, and the type a
CustomResourceDefinition registers."""

from .schema import K8sValidator, to_jsonschema


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

"""kube_api.py: a Kubernetes API server stand-in for tests (independent of the C code).

Run with Debian's /usr/bin/python3 (needs python3-yaml and python3-jsonschema).

    /usr/bin/python3 test/fakes/kube_api.py --port 0 [--host 127.0.0.1] [--tls]
        [--token T] [--kubeconfig-out PATH] [--crds DIR_OR_FILE] [--log-requests]
        [--bookmark-interval 1.0] [--history 10000] [--watch-too-old event|http]
        [--gc-interval 0.05] [--no-schema]

Prints `port <N>` (the bound port), `url <URL>`, `ca <file>` (with --tls), then `ready` once
serving, each line flushed. SIGTERM/SIGINT stop it and remove the temporary certificates.
--tls generates a throwaway CA and a server certificate for 127.0.0.1/localhost with the
openssl CLI in a temporary directory and requires a generated bearer token (or the one given
with --token). Without --tls the server speaks plain HTTP and needs no auth unless --token is
given. --kubeconfig-out writes a kubeconfig (server URL, CA data, token, current-context
"fake", namespace default) usable by kubectl and by the operator. --no-schema stores custom
resources as sent (no CRD schema validation, pruning or defaulting), to test a client with
objects a real API server refuses (wrong JSON types); built-in kinds are still checked.

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
                                  would (validation, watch events), in one request; "{i}" in
                                  any string of template becomes the 5-digit index; an
                                  optional "status" (same substitution) is then written
                                  through the status subresource, as a PUT would.
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

Layout (one module per concern; test/fakes/kube_api.py is the entry script):
  common.py      timestamps, ApiError/Status, name patterns
  selection.py   label and field selectors
  patch.py       merge, JSON and strategic merge patches
  schema.py      CRD schema validation, pruning, defaulting, unknown CRD fields
  resources.py   ResType: built-in kinds and the type a CRD registers
  store.py       State: objects, resourceVersion, event history, watchers, verbs
  validation.py  body validation and normalisation (mixin of State)
  gc.py          garbage collector thread (mixin of State)
  tables.py      Table output for kubectl
  discovery.py   discovery and OpenAPI v3 documents (mixin of Handler)
  watch.py       the watch verb (mixin of Handler)
  control.py     the /fake/ control API and injected faults (mixin of Handler)
  server.py      HTTP server, shared context (Fake), request handler and routing
  main.py        command line, TLS certificates, kubeconfig, start and stop
"""

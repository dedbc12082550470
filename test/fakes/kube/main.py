"""Start-up: command line, throwaway TLS certificates (openssl CLI), the
kubeconfig written for clients, CRDs loaded from files, the serving and
garbage collector threads, and a clean stop on SIGTERM/SIGINT."""

import argparse
import base64
import os
import secrets
import shutil
import ssl
import subprocess
import tempfile
import threading

import yaml

from . import __doc__ as PACKAGE_DOC
from .server import Fake, Handler, Server


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
    ap = argparse.ArgumentParser(description=PACKAGE_DOC.split("\n")[0])
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
    ap.add_argument("--no-schema", action="store_true",
                    help="store custom resources as sent: no CRD schema validation, "
                         "pruning or defaulting (to test a client with what a real "
                         "server refuses)")
    args = ap.parse_args(argv)
    fake = Fake(args)
    fake.state.schema_checks = not args.no_schema
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

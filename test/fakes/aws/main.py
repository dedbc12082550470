"""Start-up: command line, the state (fresh or from --state-file), the
threaded HTTP server, the lines a caller waits for (port, management
account, credentials, ready), and a clean stop on SIGTERM."""

import argparse
import threading
from http.server import ThreadingHTTPServer

from .server import Fake, Handler
from .state import set_partition


def main(argv=None):
    ap = argparse.ArgumentParser(description='AWS stand-in for aws-account-operator tests')
    ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--host', default='127.0.0.1')
    ap.add_argument('--create-account-seconds', type=float, default=2.0)
    ap.add_argument('--case-resolve-seconds', type=float, default=2.0)
    ap.add_argument('--instance-running-seconds', type=float, default=0.5)
    ap.add_argument('--region-enable-seconds', type=float, default=2.0)
    ap.add_argument('--max-accounts', type=int, default=1000)
    ap.add_argument('--ec2-optin-seconds', type=float, default=0.0)
    ap.add_argument('--management-account-id', default=None)
    ap.add_argument('--state-file', default=None)
    ap.add_argument('--partition', default='aws', choices=['aws', 'aws-us-gov'])
    a = ap.parse_args(argv)
    set_partition(a.partition)     # before any state is minted: every ARN uses it
    cfg = {'create_account_seconds': a.create_account_seconds, 'case_resolve_seconds': a.case_resolve_seconds,
           'instance_running_seconds': a.instance_running_seconds,
           'region_enable_seconds': a.region_enable_seconds, 'max_accounts': a.max_accounts,
           'ec2_optin_seconds': a.ec2_optin_seconds, 'management_account_id': a.management_account_id,
           'state_file': a.state_file}
    fake = Fake(cfg)
    fake.save()
    handler = type('BoundHandler', (Handler,), {'fake': fake})
    srv = ThreadingHTTPServer((a.host, a.port), handler)
    srv.daemon_threads = True
    boot = fake.st.d['bootstrap']
    print(f'port: {srv.server_address[1]}', flush=True)
    print(f'management-account: {fake.st.mgmt}', flush=True)
    print(f'partition: {a.partition}', flush=True)
    print(f'credentials: {boot["access_key"]} {boot["secret"]}', flush=True)
    print('ready', flush=True)
    import signal
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=srv.shutdown, daemon=True).start())
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()
        with fake.lock:
            fake.save()

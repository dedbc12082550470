"""The peers' ceiling: requests per second the genuine kube-apiserver and
the AWS stand-in answer for a parallel client, measured beside the
operator's figures so that a slow peer is not mistaken for a slow operator.
The client is Python on the same cores, so each is a lower bound."""
import threading
import time

import bench_util  # noqa: F401 - puts test/e2e on sys.path

from awsfake_util import NO_RETRY


def _hammer(make, one, seconds, workers):
    """Run one(conn) in `workers` threads for `seconds`; requests per second."""
    done = [0] * workers
    stop = time.monotonic() + seconds

    def work(i):
        c = make()
        while time.monotonic() < stop:
            one(c)
            done[i] += 1
    ts = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    t0 = time.monotonic()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(done) / (time.monotonic() - t0)


def kube_ceiling(kube, path, seconds=3.0, workers=8):
    """GETs of one object per second over keep-alive TLS connections."""
    def one(c):
        c.request("GET", path, headers={"Accept": "application/json"})
        r = c.getresponse()
        r.read()
        assert r.status == 200, r.status
    return _hammer(lambda: kube.conn(timeout=30), one, seconds, workers)


def aws_ceiling(aws, seconds=3.0, workers=8):
    """Signed organizations:DescribeOrganization calls per second (botocore)."""
    def make():
        return aws.client("organizations", config=NO_RETRY)
    return _hammer(make, lambda c: c.describe_organization(), seconds, workers)

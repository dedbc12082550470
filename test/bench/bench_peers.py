"""The peers' ceiling: requests per second the genuine kube-apiserver and
the AWS stand-in answer for a parallel client, measured beside the
operator's figures so that a slow peer is not mistaken for a slow operator.
The client is Python on the same cores, so each is a lower bound."""
import http.client
import threading
import time

import bench_util  # noqa: F401 - puts test/e2e on sys.path



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


def _signed_describe_organization(aws):
    """(headers, body) of one signed organizations:DescribeOrganization."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    req = AWSRequest(method="POST", url=aws.endpoint + "/", data=b"{}", headers={
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "AWSOrganizationsV20161128.DescribeOrganization"})
    SigV4Auth(Credentials(aws.access_key, aws.secret_key), "organizations",
              aws.region).add_auth(req)
    return dict(req.headers.items()), b"{}"


def aws_ceiling(aws, seconds=3.0, workers=8):
    """Signed organizations:DescribeOrganization calls per second. Each
    worker signs one request and sends it again and again on a keep-alive
    connection (the stand-in allows minutes of clock skew): through
    botocore, its own Python cost per call under one interpreter lock for
    all the workers capped the figure at the client's rate (483-784 calls/s
    in runs of the same stand-in), not the stand-in's."""
    headers, body = _signed_describe_organization(aws)

    def make():
        return http.client.HTTPConnection("127.0.0.1", aws.port, timeout=30)

    def one(c):
        c.request("POST", "/", body=body, headers=headers)
        r = c.getresponse()
        r.read()
        assert r.status == 200, (r.status, r.reason)
    return _hammer(make, one, seconds, workers)

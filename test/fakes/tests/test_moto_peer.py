"""moto, the e2e suite's second, independent AWS peer (test/e2e/moto_util.py,
pinned in hack/requirements-moto.txt), runs with IAM authentication on and
verifies SigV4 signatures over the bytes received: the precondition of every
scenario in test/e2e/test_moto_lifecycle.py, checked here with the other
peers' self-tests, before the e2e suite runs.

Run: /usr/bin/python3 -m pytest -q test/fakes/tests/test_moto_peer.py
(the first run on a machine builds the virtualenv, about 45 s)
"""
import http.client
import json
import urllib.parse

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from moto_util import Moto


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    m = Moto(tmp_path_factory.mktemp("moto")).start()
    try:
        yield m
    finally:
        m.stop()


def signed_post(moto, body, secret, service="iam"):
    """POST a form body signed over exactly these bytes (botocore's signer);
    returns (status, body)."""
    req = AWSRequest(method="POST", url=moto.endpoint + "/", data=body,
                     headers={"Content-Type":
                              "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(moto.access_key, secret), service, "us-east-1").add_auth(req)
    return send(moto, body, dict(req.headers.items()))


def send(moto, body, headers):
    c = http.client.HTTPConnection("127.0.0.1", moto.port, timeout=10)
    try:
        c.request("POST", "/", body=body, headers=headers)
        r = c.getresponse()
        return r.status, r.read().decode()
    finally:
        c.close()


def test_moto_verifies_signatures(moto):
    m = moto
    sts = m.client("sts")
    assert sts.get_caller_identity()["Account"] == m.account
    with pytest.raises(ClientError) as e:
        m.client("sts", creds={"AccessKeyId": m.access_key,
                               "SecretAccessKey": m.secret_key[:-1] + "x"}
                 ).get_caller_identity()
    assert e.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    with pytest.raises(ClientError) as e:
        m.client("sts", creds={"AccessKeyId": "AKIAUNKNOWN000000000",
                               "SecretAccessKey": m.secret_key}).get_caller_identity()
    assert e.value.response["Error"]["Code"] == "InvalidClientTokenId"
    # A body signed with %20 for a space (as the operator sends it) is
    # accepted; the same signature over a changed body is not.
    doc = urllib.parse.quote(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}), safe="")
    assert "%20" in doc
    body = ("Action=CreatePolicy&Version=2010-05-08&PolicyName=sig-check"
            "&PolicyDocument=" + doc)
    st, text = signed_post(m, body, m.secret_key)
    assert st == 200, text
    req = AWSRequest(method="POST", url=m.endpoint + "/", data=body, headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(m.access_key, m.secret_key), "iam", "us-east-1").add_auth(req)
    st, text = send(m, body.replace("sig-check", "sig-chekk"), dict(req.headers.items()))
    assert st == 403 and "SignatureDoesNotMatch" in text, (st, text)
    st, text = signed_post(m, body.replace("sig-check", "sig-check2"), "wrong")
    assert st == 403 and "SignatureDoesNotMatch" in text, (st, text)
    # A bodyless REST call (Route 53 GET), right and wrong secret.
    assert m.client("route53").list_hosted_zones()["HostedZones"] == []
    with pytest.raises(ClientError) as e:
        m.client("route53", creds={"AccessKeyId": m.access_key,
                                   "SecretAccessKey": "wrong"}).list_hosted_zones()
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


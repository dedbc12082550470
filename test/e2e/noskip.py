"""A skipped test proves nothing, and a suite that reports it beside the
passes hides that. Both pytest trees (test/e2e, test/fakes/tests) import
this hook from their conftest.py, so that any skip (pytest.skip, a skipif
mark, importorskip for a missing peer) is reported as a failure with its
reason."""
import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.skipped and not hasattr(rep, "wasxfail"):
        reason = rep.longrepr[2] if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
        rep.outcome = "failed"
        rep.longrepr = "skipped, which this suite counts as a failure: %s" % reason

"""The test peers' own tests: the stand-ins (test/fakes/kube/, test/fakes/aws/),
their parity with the genuine kube-apiserver, hack/envtest.sh and moto.

Each peer is started as a process through the helper the e2e suite starts it
with (test/e2e/kubefake_util.py, awsfake_util.py, envtest_util.py,
moto_util.py); no test imports a stand-in's code, so none depends on how the
stand-ins' packages are laid out. This file is the one place that knows
where those helpers live: it puts test/e2e on sys.path before any test
module is imported. A skip counts as a failure, as in the e2e suite."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "e2e"))

from noskip import pytest_runtest_makereport  # noqa: E402,F401 - a pytest hook

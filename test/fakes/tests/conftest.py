"""The stand-ins' own tests share the e2e helpers and count a skip as a
failure, as the e2e suite does."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "e2e"))

from noskip import pytest_runtest_makereport  # noqa: E402,F401 - a pytest hook

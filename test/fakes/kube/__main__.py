"""`python3 -m kube` (from test/fakes) or `python3 test/fakes/kube`: the
same as test/fakes/kube_api.py."""
import os
import sys

if __package__ in (None, ""):
    # Run as a directory: sys.path[0] is this package's folder, where our
    # module names could shadow the standard library's; use its parent.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    sys.path.insert(0, os.path.dirname(here))

from kube.main import main  # noqa: E402

sys.exit(main())

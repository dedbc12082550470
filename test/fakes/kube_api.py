#!/usr/bin/python3
"""Entry script of the Kubernetes API server stand-in, whose code is the
package kube/ beside this file (its docstring says what it implements):

    /usr/bin/python3 test/fakes/kube_api.py --port 0 [--tls] [--crds DIR] ...
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from kube.main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())

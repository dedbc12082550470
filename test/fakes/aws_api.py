#!/usr/bin/python3
"""Entry script of the AWS stand-in, whose code is the package aws/ beside
this file (its docstring says what it implements):

    /usr/bin/python3 test/fakes/aws_api.py --port 0 [--create-account-seconds 2] ...
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from aws.main import main  # noqa: E402

if __name__ == '__main__':
    main()

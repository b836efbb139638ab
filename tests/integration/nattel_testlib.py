"""Helpers shared by the integration tests (not a test: CTest runs only
test_*.py). Each test script imports it from its own directory."""
import os
import sys

SKIP = 77          # CTest's SKIP_RETURN_CODE
failures = []      # what failed, reported by each script's main


def check(cond, what):
    """Records `what` as a failure when `cond` is false."""
    if not cond:
        failures.append(what)


def fail(msg):
    """Records a failure and says it at once."""
    failures.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


def env(name):
    """A variable CTest sets; without it the script was not run by CTest."""
    v = os.environ.get(name)
    if not v:
        print(f"{name} is not set (run through CTest)", file=sys.stderr)
        sys.exit(1)
    return v

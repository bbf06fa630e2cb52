"""CTest's entry to the pytest suite: `python3 run_pytest.py [pytest args]`.
Exit 77 (CTest: skipped) when pytest or NumPy is missing; pytest's 5 ("no tests collected") is a
failure, since this folder always holds tests."""
import os
import sys

try:
    import numpy  # noqa: F401
    import pytest
except ImportError as e:
    print(f"skipped: {e} (bash tools/setup.sh installs python3-pytest and python3-numpy)")
    sys.exit(77)

here = os.path.dirname(os.path.abspath(__file__))
code = pytest.main(["-q", "-p", "no:cacheprovider", "--rootdir", here, here] + sys.argv[1:])
if code == 5:
    print("pytest collected no tests from", here)
    sys.exit(1)
sys.exit(int(code))

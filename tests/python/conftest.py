"""Shared fixtures of the pytest suite of the Python package (run by ctest with the label `python`,
PYTHONPATH set to <build>/python so the module just built is the one tested)."""
import json
import os
import shutil
import subprocess

import numpy as np
import pytest

import rbsm  # noqa: F401  (fails the whole suite at once when the module is missing)


def cli_path():
    path = os.environ.get("RBSM_CLI")
    if path and os.path.exists(path):
        return path
    build = os.environ.get("RBSM_BUILD_DIR")
    if build and os.path.exists(os.path.join(build, "rbsm")):
        return os.path.join(build, "rbsm")
    return shutil.which("rbsm")


@pytest.fixture(scope="session")
def cli():
    """cli(command, *args) -> the JSON object of `rbsm command args --json`."""
    path = cli_path()
    if not path:
        pytest.skip("the rbsm CLI is not built (RBSM_CLI)")

    def run(command, *args):
        out = subprocess.run([path, command, *args, "--json"], capture_output=True, text=True, check=True)
        return json.loads(out.stdout)

    return run


def csv(v):
    return ",".join(repr(float(x)) for x in np.ravel(v))


@pytest.fixture
def rng():
    return np.random.default_rng(1234)

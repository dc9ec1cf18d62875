"""`cmake --install` installs the module (component python) where Debian's python3 finds it for the
prefix, and the installed copy imports from any directory."""
import glob
import os
import subprocess
import sys

import pytest


def test_cmake_install_component_python(tmp_path):
    build = os.environ.get("RBSM_BUILD_DIR")
    if not build:
        pytest.skip("RBSM_BUILD_DIR is not set (run through ctest)")
    prefix = tmp_path / "prefix"
    subprocess.run(["cmake", "--install", build, "--component", "python", "--prefix", str(prefix)], check=True,
                   capture_output=True)
    site = prefix / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "dist-packages"
    assert glob.glob(str(site / "rbsm*.so"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(site)
    out = subprocess.run([sys.executable, "-c", "import rbsm; print(rbsm.__file__); "
                          "print(rbsm.manifold('sphere:2').project([[0, 0, 2.0]]).tolist())"],
                         cwd="/", env=env, capture_output=True, text=True, check=True)
    assert out.stdout.splitlines()[0].startswith(str(site))
    assert out.stdout.splitlines()[1] == "[[0.0, 0.0, 1.0]]"

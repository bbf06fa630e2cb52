"""cmake --install puts the package where Debian's python3 finds it under the prefix."""
import os
import subprocess
import sys

from conftest import BUILD, TORCH_DATA


def test_installed_package_imports_and_predicts(tmp_path):
    r = subprocess.run(["cmake", "--install", BUILD, "--prefix", str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    site = tmp_path / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "dist-packages"
    code = ("import integrad, numpy as np, sys; m = integrad.load(sys.argv[1]); "
            "print(integrad.__file__); print(m.predict(np.zeros((2, 3, 4))).shape)")
    env = dict(os.environ, PYTHONPATH=str(site))
    r = subprocess.run([sys.executable, "-c", code, os.path.join(TORCH_DATA, "mlp_f64.safetensors")], capture_output=True, text=True, env=env,
                       cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.split("\n")
    assert lines[0].startswith(str(site)) and lines[1] == "(2, 4)"

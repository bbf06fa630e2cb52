"""The build step of `pip install .` (pyproject.toml): configure and build the `_integrad` target
with CMake, for the Python that runs pip, and put the module into the package.

Where: a build tree already configured for this interpreter is reused — $INTEGRAD_CMAKE_BUILD_DIR,
or the repository's build/ (tools/setup.sh's) — so installing after building costs a link, not a
second build of the library; otherwise build-pip/ beside build/ is configured afresh (same
relative paths as build/, so ccache, when installed, serves what build/ compiled)."""
import os
import re
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))


def cached_python(build_dir):
    """The interpreter a CMake build tree's module is built for, or None."""
    try:
        with open(os.path.join(build_dir, "CMakeCache.txt"), encoding="utf-8") as f:
            m = re.search(r"^Python3_EXECUTABLE:[A-Z]+=(.*)$", f.read(), re.M)
    except OSError:
        return None
    return m.group(1).strip() if m else None


def same_interpreter(a, b):
    return a is not None and os.path.exists(a) and os.path.realpath(a) == os.path.realpath(b)


class CMakeExtension(Extension):
    def __init__(self, name):
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        # A venv's python is a link to the base interpreter: the module's ABI is the base's.
        python = getattr(sys, "_base_executable", sys.executable)
        given = os.environ.get("INTEGRAD_CMAKE_BUILD_DIR")
        candidates = [given] if given else [os.path.join(HERE, "build")]
        build_dir = next((d for d in candidates if same_interpreter(cached_python(d), python)), None)
        if build_dir is None:
            build_dir = os.path.join(HERE, "build-pip")
            configure = ["cmake", "-S", HERE, "-B", build_dir, "-DCMAKE_BUILD_TYPE=Release", f"-DPython3_EXECUTABLE={python}", "-DINTEGRAD_PYTHON=ON"]
            if shutil.which("ccache"):
                configure.append("-DCMAKE_CXX_COMPILER_LAUNCHER=ccache")
            subprocess.check_call(configure)
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 1))
        subprocess.check_call(["cmake", "--build", build_dir, "--target", "_integrad", "-j", jobs])
        built = os.path.join(build_dir, "python", "integrad")
        module = next((f for f in os.listdir(built) if f.startswith("_integrad") and f.endswith(".so")), None)
        if module is None:
            raise RuntimeError(f"the CMake build left no _integrad module in {built} (is pybind11-dev installed?)")
        target = self.get_ext_fullpath(ext.name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(os.path.join(built, module), target)


# setuptools' own staging goes beside the CMake build, not into build/ (the CMake build tree).
setup(ext_modules=[CMakeExtension("integrad._integrad")], cmdclass={"build_ext": CMakeBuild},
      options={"build": {"build_base": os.path.join("build-pip", "setuptools")}})

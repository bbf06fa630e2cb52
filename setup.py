"""The build step of `pip install .` (pyproject.toml): configure and build the `_integrad` target
with CMake, for the Python that runs pip, and put the module into the package."""
import os
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))


class CMakeExtension(Extension):
    def __init__(self, name):
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        # A sibling of build/: the same relative paths, so ccache serves what a build/ compiled.
        build_dir = os.environ.get("INTEGRAD_PIP_BUILD_DIR", os.path.join(HERE, "build-pip"))
        configure = ["cmake", "-S", HERE, "-B", build_dir, "-DCMAKE_BUILD_TYPE=Release", f"-DPython3_EXECUTABLE={sys.executable}",
                     "-DINTEGRAD_PYTHON=ON"]
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

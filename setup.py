"""cityeye's compiled parts (issue 15; the engine's join them in issue 23).

Each ``.pyx`` is a twin of Python code that stays the reference (``cityeye.native``).
The extensions are optional: where no C compiler is at hand the build warns and the
package runs on the reference alone. Everything else is in pyproject.toml.
"""

from Cython.Build import cythonize
from setuptools import Extension, setup

EXTENSIONS = [
    Extension("cityeye.ingest._fast", ["src/cityeye/ingest/_fast.pyx"], optional=True),
]

setup(
    ext_modules=cythonize(
        EXTENSIONS,
        compiler_directives={"language_level": "3", "boundscheck": False, "wraparound": False},
        quiet=True,
    )
)

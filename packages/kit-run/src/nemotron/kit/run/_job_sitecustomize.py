"""nemotron-kit's `sitecustomize` for container jobs: shipped as `sitecustomize.py` at the top
of the job's code folder (`_jobcode.py`), never imported here.

The job's PYTHONPATH holds our code, so Python imports this module at start-up. It appends the
shipped dependencies (`NEMOTRON_JOB_DEPS`) to `sys.path` as a site directory, behind the image's
own packages: a package the image has (torch, numpy, ... in a NeMo container) is the image's,
and only what the image lacks comes from the shipped folder. Then the image's own
`sitecustomize`, which this module shadows, runs as it would have. Standard library only.
"""

import importlib.machinery
import importlib.util
import os
import site
import sys


def _start() -> None:
    deps = os.environ.get("NEMOTRON_JOB_DEPS")
    if deps:
        site.addsitedir(deps)  # appended: after the image's site-packages
    here = os.path.dirname(os.path.abspath(__file__))
    others = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", others)
    if spec is not None and spec.loader is not None:
        image_own = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(image_own)


_start()

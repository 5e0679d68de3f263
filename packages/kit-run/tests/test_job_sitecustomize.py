"""The `sitecustomize.py` shipped at the top of a container job's code: the image's packages win.

Run in a real interpreter with the job's layout: PYTHONPATH = our code folder (holding the
shipped sitecustomize), NEMOTRON_JOB_DEPS = the dependencies folder. This interpreter's own
site-packages stand for the image's (it has msgspec); the box test runs it in the box image.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import msgspec

from nemotron.kit.run import _jobcode

PROBE = """
import json, sys, msgspec, only_shipped
print(json.dumps({"msgspec": msgspec.__file__, "only_shipped": only_shipped.__file__,
                  "image_sitecustomize": getattr(sys, "image_sitecustomize_ran", False)}))
"""


def _job(tmp_path: Path) -> dict[str, object]:
    code, deps, image_extra = tmp_path / "code", tmp_path / "deps", tmp_path / "image-extra"
    for folder in (code, deps / "msgspec", deps / "only_shipped", image_extra):
        folder.mkdir(parents=True)
    shutil.copy(_jobcode._SITECUSTOMIZE, code / "sitecustomize.py")
    (deps / "msgspec" / "__init__.py").write_text("__version__ = 'shipped'\n")
    (deps / "only_shipped" / "__init__.py").write_text("")
    # an image's own sitecustomize, later on the path: it must still run
    (image_extra / "sitecustomize.py").write_text(
        "import sys\nsys.image_sitecustomize_ran = True\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": f"{code}:{image_extra}",
        "NEMOTRON_JOB_DEPS": str(deps),
        "PYTHONNOUSERSITE": "1",
    }
    proc = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    return dict(json.loads(proc.stdout))


def test_the_images_package_wins_and_the_shipped_fill_in(tmp_path: Path) -> None:
    found = _job(tmp_path)
    assert found["msgspec"] == msgspec.__file__  # the interpreter's own, not the shipped one
    assert found["only_shipped"] == str(tmp_path / "deps" / "only_shipped" / "__init__.py")


def test_the_images_own_sitecustomize_still_runs(tmp_path: Path) -> None:
    assert _job(tmp_path)["image_sitecustomize"] is True

"""Every README, doc and sample profile names container images of ONE set (issue 15).

The set: the images recipes-nano3 defines for its two training stacks (`train/_libraries.py`
`LIBRARIES`: Megatron-Bridge 0.6.2 for pretrain/SFT, NeMo-RL v0.7.0 for RL; docs/training.md
"Versions targeted" says how to build them), plus the cluster box's stand-in image (whatever
`scripts/local-cluster.sh` writes into the box profile; it has no training library). NeMo
Framework / NGC tags (`nemo:25.07`, `nemo-rl:v0.4.0...`) may be named only in docs/training.md,
which says why they do not run these stages.
"""

from __future__ import annotations

import re
from pathlib import Path

from nemotron.recipes.nano3.train._libraries import LIBRARIES

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted([ROOT / "README.md", *ROOT.glob("docs/*.md"), *ROOT.glob("packages/*/README.md")])
TRAINING_DOC = ROOT / "docs/training.md"
# `container_image = "X"` (TOML) or `container_image: X` (YAML)
_SETTING = re.compile(r"""container_image\s*[=:]\s*["']?([^"'\s,}]+)""")
# an image reference: an NGC path, a bare NeMo Framework / NeMo-RL tag, or one of ours
_IMAGE = re.compile(r"(?<![\w/.-])(nvcr\.io/[\w./-]+|nemo(?:-rl)?|nemotron/[\w.-]+):([\w.*-]+)")


def _box_image() -> str:
    script = (ROOT / "scripts/local-cluster.sh").read_text()
    [image] = set(re.findall(r'^container_image = "([^"]+)"$', script, re.MULTILINE))
    return image


def _allowed() -> set[str]:
    return {library.image for library in LIBRARIES.values()} | {_box_image()}


def _fits(repository: str, tag: str, allowed: set[str]) -> bool:
    """The image is one of the set, or `repository:*` of one (a pattern, e.g. the box's map)."""
    return f"{repository}:{tag}" in allowed or (
        tag == "*" and any(a.rsplit(":", 1)[0] == repository for a in allowed)
    )


def test_each_stack_has_its_own_image() -> None:
    images = {key: library.image for key, library in LIBRARIES.items()}
    assert images == {
        "megatron-bridge": "nemotron/mbridge:0.6.2",
        "nemo-rl": "nemotron/nemo-rl:v0.7.0",
    }
    table = TRAINING_DOC.read_text().split("## Versions targeted", 1)[1].split("\n\n", 2)[1]
    for line, image in zip(table.splitlines()[2:], images.values(), strict=True):
        assert line.endswith(f"| `{image}` |")  # the doc's table names the same tag per stack


def test_docs_and_sample_profiles_name_only_the_one_image_set() -> None:
    allowed = _allowed()
    wrong = []
    for doc in DOCS:
        for number, line in enumerate(doc.read_text().splitlines(), start=1):
            where = f"{doc.relative_to(ROOT)}:{number}"
            wrong += [f"{where}: {m}" for m in _SETTING.findall(line) if m not in allowed]
            if doc == TRAINING_DOC:
                continue  # the one place that names the tags that do NOT work, and why
            wrong += [
                f"{where}: {repo}:{tag}"
                for repo, tag in _IMAGE.findall(line)
                if not _fits(repo, tag, allowed)
            ]
    assert not wrong, f"images outside the set {sorted(allowed)}:\n" + "\n".join(wrong)


def test_the_check_would_catch_a_nemo_framework_tag() -> None:
    allowed = _allowed()
    line = 'container_image = "nvcr.io/nvidia/nemo:25.11"  # the NeMo Framework container'
    assert _SETTING.findall(line) == ["nvcr.io/nvidia/nemo:25.11"]
    assert _IMAGE.findall("use `nemo:25.07` or nemo-rl:v0.4.0.nemotron_3_nano") == [
        ("nemo", "25.07"),
        ("nemo-rl", "v0.4.0.nemotron_3_nano"),
    ]
    assert not _fits("nemo", "25.07", allowed)
    assert _fits("nemotron/mbridge", "0.6.2", allowed)


def test_the_sample_profiles_of_training_md_are_valid_and_use_the_set(tmp_path: Path) -> None:
    from nemotron.kit.run import check_env, load_env_profile

    text = TRAINING_DOC.read_text().split("from two profiles, e.g.:\n\n```toml\n", 1)[1]
    env = tmp_path / "env.toml"
    env.write_text(text.split("```", 1)[0])
    assert check_env(env) == []  # kit-run's own env.toml checks: keys, types, extends
    assert load_env_profile("cluster", env).container_image == LIBRARIES["megatron-bridge"].image
    rl = load_env_profile("cluster-rl", env)
    assert (rl.container_image, rl.ray) == (LIBRARIES["nemo-rl"].image, True)

"""RL blend placeholders filled as NeMo-RL's Nano 3 guide prepares the blend (create_nanov3_jsonl.py).

The tiny config's blend (`assets/tiny/rl-blend`) holds whole records and `_hf_placeholder` records
pointing at rows of two shipped sources in the row format of DAPO-Math-17k (Parquet) and
Skywork-OR1-RL-Data (JSONL, answers as a JSON list in a string).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from nemotron.recipes.nano3.data_prep import PlaceholderConfig, RLDataConfig, run_rl
from nemotron.recipes.nano3.data_prep._placeholders import DAPO_INSTRUCTION, DAPO_REMINDER
from nemotron.recipes.nano3.data_prep.errors import DataPrepConfigError, InputDataError

CONFIGS = Path(__file__).resolve().parents[2] / "src/nemotron/recipes/nano3/configs"


def _config(out: Path, *overrides: str) -> RLDataConfig:
    from nemotron.kit.config import cli

    return cli(
        RLDataConfig,
        argv=["--config", str(CONFIGS / "data_prep/rl/tiny.yaml"), f"output_dir={out}", *overrides],
    )


def _jsonl(path: Path) -> list[Any]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _records(folder: str) -> dict[str, dict[str, Any]]:
    return {
        record["id"]: record
        for name in ("train", "val", "test")
        for record in _jsonl(Path(folder) / f"{name}.jsonl")
    }


def test_tiny_blend_placeholders_are_filled_from_the_named_sources(tmp_path: Path, assets) -> None:
    art = run_rl(_config(tmp_path / "out"))
    records = _records(art.path)
    assert len(records) == art.train_count + art.val_count + art.test_count == 224
    blend = _jsonl(assets / "tiny/rl-blend/blend.jsonl")
    dapo = pq.read_table(assets / "tiny/rl-fill/dapo-math.parquet").to_pylist()
    skywork = _jsonl(assets / "tiny/rl-fill/skywork-math.jsonl")
    kinds = set()
    for source in blend:
        filled = records[source["id"]]
        assert "_hf_placeholder" not in filled and filled["dataset"] == source["dataset"]
        placeholder = source.get("_hf_placeholder")
        if placeholder is None:
            assert filled == source  # whole records are kept as they are
            continue
        template, row = placeholder["question_template"], placeholder["row"]
        if source["dataset"] == "nano_v3_sft_profiled_dapo17k":
            prompt = dapo[row]["prompt"][0]["content"]
            problem = prompt.removeprefix(DAPO_INSTRUCTION).removesuffix(DAPO_REMINDER).strip()
            question = template.get("prefix", "") + problem + template.get("suffix", "")
            assert filled["question"] == question and DAPO_INSTRUCTION not in question
            shown, answer = question, dapo[row]["reward_model"]["ground_truth"]
            kinds.add("prefix" if "prefix" in template else "suffix")
        else:
            problem = skywork[row]["prompt"][0]["content"]
            assert filled["question"] == problem
            shown = template.replace("{question}", problem)
            answer = json.loads(skywork[row]["reward_model"]["ground_truth"])[0]
            kinds.add("skywork")
        assert filled["expected_answer"] == answer and isinstance(answer, str)
        assert filled["responses_create_params"] == {"input": [{"role": "user", "content": shown}]}
    assert kinds == {"prefix", "suffix", "skywork"}
    # the sources are inputs of the artifact, with the rows the blend took from them
    inputs = {s.name: s for s in art.source_datasets}
    dapo_input = inputs["placeholders-nano_v3_sft_profiled_dapo17k"]
    assert dapo_input.rows == 8 and dapo_input.files[0].endswith("dapo-math.parquet")
    assert inputs["placeholders-nano_v3_sft_profiled_skywork_no_omni"].rows == 8
    manifest = json.loads(Path(art.manifest_path).read_text())
    assert [p["template"] for p in manifest["placeholders"]] == ["dapo", "skywork"]


def test_a_placeholder_without_a_source_names_file_and_line(tmp_path: Path, assets) -> None:
    cfg = _config(tmp_path / "out")
    cfg.placeholders = cfg.placeholders[:1]  # no source for the Skywork placeholders
    first = next(
        i
        for i, line in enumerate(
            (assets / "tiny/rl-blend/blend.jsonl").read_text().splitlines(), start=1
        )
        if "skywork_no_omni" in line
    )
    with pytest.raises(InputDataError) as err:
        run_rl(cfg)
    assert str(err.value).startswith(
        f"{assets / 'tiny/rl-blend/blend.jsonl'}:{first}: placeholder of dataset "
        "'nano_v3_sft_profiled_skywork_no_omni' has no `placeholders` entry"
    )


def test_a_row_the_source_lacks_is_refused_before_any_work(tmp_path: Path, assets) -> None:
    short = tmp_path / "skywork.jsonl"
    lines = (assets / "tiny/rl-fill/skywork-math.jsonl").read_text().splitlines(keepends=True)
    short.write_text("".join(lines[:2]))
    cfg = _config(tmp_path / "out", f"placeholders.1.path={short}")
    with pytest.raises(DataPrepConfigError) as err:
        run_rl(cfg)
    assert str(err.value).startswith("config key `placeholders[1]`: the blend points at row ")
    assert f"of {short} (split train), which has 2 rows" in str(err.value)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").glob("*/train.jsonl"))


def test_a_source_in_another_row_format_names_the_row(tmp_path: Path) -> None:
    blend = tmp_path / "blend.jsonl"
    blend.write_text(json.dumps({"id": "a", "dataset": "d", "_hf_placeholder": {"row": 0}}) + "\n")
    source = tmp_path / "source.jsonl"
    source.write_text(json.dumps({"problem": "1+1", "answer": "2"}) + "\n")
    cfg = _config(
        tmp_path / "out",
        f"sources=[{{name: b, path: '{blend}', text_field: question}}]",
        f"placeholders=[{{dataset: d, path: '{source}', template: skywork}}]",
    )
    with pytest.raises(InputDataError, match=r"source.jsonl row:1: no prompt\[0\].content"):
        run_rl(cfg)


@pytest.mark.parametrize(
    ("entries", "key", "message"),
    [
        ([{"dataset": "d", "path": "p", "template": "gsm8k"}], "placeholders[0].template", "dapo"),
        ([{"dataset": "d", "path": "p"}] * 2, "placeholders[1].dataset", "once"),
    ],
)
def test_placeholder_entries_are_checked(entries, key: str, message: str) -> None:
    cfg = RLDataConfig(
        sources=_config(Path("/nonexistent")).sources,
        placeholders=[PlaceholderConfig(**e) for e in entries],
    )
    with pytest.raises(DataPrepConfigError) as err:
        cfg.check()
    assert str(err.value).startswith(f"config key `{key}`: ") and message in str(err.value)


def test_default_config_fills_from_the_datasets_the_guide_names() -> None:
    # NeMo-RL's Nano 3 guide: create_nanov3_jsonl.py takes the rows from DAPO-Math-17k (train)
    # and Skywork-OR1-RL-Data (math) on the Hub; ours names them as hf:// datasets (offline from
    # HF_HOME) or local folders.
    cfg = _config(Path("/nonexistent"), "--config", str(CONFIGS / "data_prep/rl/default.yaml"))
    assert [(p.dataset, p.path, p.split, p.template) for p in cfg.placeholders] == [
        (
            "nano_v3_sft_profiled_dapo17k",
            "hf://BytedTsinghua-SIA/DAPO-Math-17k",
            "train",
            "dapo",
        ),
        (
            "nano_v3_sft_profiled_skywork_no_omni",
            "hf://Skywork/Skywork-OR1-RL-Data",
            "math",
            "skywork",
        ),
    ]
    cfg.check()


def test_hf_placeholder_source_read_offline(tmp_path: Path, assets, hf_offline) -> None:
    # `hf://NAME` sources are read with `datasets.load_dataset` (recipes-nano3[hf]); nothing comes
    # from the Hub here, so NAME is a local dataset folder, read offline the same way.
    folder = tmp_path / "skywork"
    folder.mkdir()
    (folder / "train.jsonl").write_bytes((assets / "tiny/rl-fill/skywork-math.jsonl").read_bytes())
    local = _records(run_rl(_config(tmp_path / "local")).path)
    remote = run_rl(_config(tmp_path / "hf", f"placeholders.1.path=hf://{folder}"))
    assert _records(remote.path) == local


def test_a_source_in_several_files_numbers_rows_across_them(tmp_path: Path, assets) -> None:
    # a local copy of a split as several Parquet files (a glob): rows count on in name order
    table = pq.read_table(assets / "tiny/rl-fill/dapo-math.parquet")
    folder = tmp_path / "dapo"
    folder.mkdir()
    pq.write_table(table.slice(0, 5), folder / "train-00000-of-00002.parquet")
    pq.write_table(table.slice(5), folder / "train-00001-of-00002.parquet")
    single = _records(run_rl(_config(tmp_path / "single")).path)
    split = run_rl(_config(tmp_path / "split", f"placeholders.0.path='{folder}/train-*.parquet'"))
    assert _records(split.path) == single

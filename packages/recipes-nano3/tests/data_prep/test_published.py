"""A published version never changes: another config writes another folder, the same config
reuses, overwrite retires first; digests recorded while writing; the lock; no temp files."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from nemotron.kit.artifacts import (
    PretrainBlendsArtifact,
    SFTDataArtifact,
    VersionNotFoundError,
    compute_digest,
    get_registry,
)
from nemotron.recipes.nano3.data_prep import (
    PretrainDataConfig,
    SFTDataConfig,
    SourceConfig,
    SplitConfig,
    _indexed,
    _pretrain,
    run_pretrain,
    run_sft,
)
from nemotron.recipes.nano3.data_prep.errors import DataPrepConfigError, OutputInUseError


def _pretrain_cfg(out: Path, assets: Path, **kw: object) -> PretrainDataConfig:
    cfg = PretrainDataConfig(
        sources=[SourceConfig(name="a", path=str(assets / "tiny/pretrain/stdlib-docs-a.jsonl"))],
        tokenizer="@nano3/tokenizer",
        output_dir=str(out),
        **kw,  # type: ignore[arg-type]
    )
    cfg.run.workers = 1
    return cfg


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_another_config_writes_a_new_folder_and_v1_stays_v1(tmp_path: Path, assets: Path) -> None:
    v1 = run_pretrain(_pretrain_cfg(tmp_path / "out", assets, split=SplitConfig(valid=0.05)))
    before = _snapshot(Path(v1.path))
    v2 = run_pretrain(_pretrain_cfg(tmp_path / "out", assets, split=SplitConfig(valid=0.3)))
    assert (v1.version, v2.version) == (1, 2) and v1.path != v2.path
    assert _snapshot(Path(v1.path)) == before
    loaded = PretrainBlendsArtifact.load(v1.path)
    assert loaded.version == 1 and loaded.valid_tokens == v1.valid_tokens < v2.valid_tokens
    assert get_registry().verify("nano3-pretrain-data", 1)


def test_sft_with_another_pack_size_keeps_v1s_files(tmp_path: Path, assets: Path) -> None:
    def cfg(pack_size: int) -> SFTDataConfig:
        c = SFTDataConfig(
            sources=[
                SourceConfig(
                    name="c", path=str(assets / "tiny/sft/chat.jsonl"), text_field="messages"
                )
            ],
            tokenizer="@nano3/tokenizer",
            chat_template="@nano3/chat_template.jinja",
            output_dir=str(tmp_path / "out"),
            pack_size=pack_size,
        )
        c.run.workers = 1
        return c

    v1 = run_sft(cfg(1024))
    v2 = run_sft(cfg(2048))
    assert (
        v1.training_path
        and Path(v1.training_path).is_file()
        and v1.training_path != v2.training_path
    )
    assert (
        pq.ParquetFile(v1.training_path).metadata.num_rows
        == v1.metadata["packs_per_split"]["train"]
    )
    assert SFTDataArtifact.load(v1.path).pack_size == 1024


def test_same_config_reuses_and_overwrite_retires_the_old_version_first(
    tmp_path: Path, assets: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    v1 = run_pretrain(_pretrain_cfg(tmp_path / "out", assets))
    before = _snapshot(Path(v1.path))
    again = run_pretrain(_pretrain_cfg(tmp_path / "out", assets))
    # Reused, not rebuilt: this run's output (a pipe pins it) is v2 on v1's untouched files.
    assert again.version == 2 and again.path == v1.path and again.digest == v1.digest
    assert again.metadata["reuses"] == v1.uri
    assert "already published as art://nano3-pretrain-data:v1" in capsys.readouterr().out
    assert _snapshot(Path(v1.path)) == before
    assert PretrainBlendsArtifact.load(v1.path).version == 1  # the folder's metadata is v1's

    rebuilt = run_pretrain(_pretrain_cfg(tmp_path / "out", assets, overwrite=True))
    assert rebuilt.version == 3 and rebuilt.path == v1.path
    out = capsys.readouterr().out
    assert (
        "retired art://nano3-pretrain-data:v1" in out
        and "retired art://nano3-pretrain-data:v2" in out
    )
    for retired in (1, 2):
        with pytest.raises(VersionNotFoundError):
            get_registry().resolve("nano3-pretrain-data", retired)
    assert PretrainBlendsArtifact.load(rebuilt.path).version == 3


def test_a_folder_this_registry_does_not_list_is_not_rewritten(
    tmp_path: Path, assets: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    v1 = run_pretrain(_pretrain_cfg(tmp_path / "out", assets))
    before = _snapshot(Path(v1.path))
    monkeypatch.setenv("NEMOTRON_ARTIFACTS_ROOT", str(tmp_path / "other-registry"))
    with pytest.raises(DataPrepConfigError, match=r"this registry does not list.*overwrite=true"):
        run_pretrain(_pretrain_cfg(tmp_path / "out", assets))
    assert _snapshot(Path(v1.path)) == before


def test_digest_is_recorded_while_writing_and_verify_names_files(
    tmp_path: Path, assets: Path
) -> None:
    art = run_pretrain(_pretrain_cfg(tmp_path / "out", assets, split=SplitConfig(valid=0.1)))
    folder = Path(art.path)
    assert art.digest == compute_digest(folder)  # the second pass agrees with the first
    assert set(art.files) == {
        "blend.json",
        *(f"{s}/a.{ext}" for s in ("train", "valid") for ext in ("bin", "idx")),
    }
    (folder / "valid/a.bin").unlink()
    with open(folder / "train/a.idx", "r+b") as f:
        f.seek(40)
        f.write(b"\xff")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "nemotron.kit.cli", "artifacts", "verify", art.uri],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 2 and "MISMATCH" not in proc.stderr
    assert lines[0].startswith(f"{art.uri}: changed: train/a.idx")
    assert lines[1].startswith(f"{art.uri}: missing: valid/a.bin")


def test_an_output_folder_in_use_is_refused_with_one_line(tmp_path: Path, assets: Path) -> None:
    from nemotron.recipes.nano3.data_prep import pretrain

    cfg = _pretrain_cfg(tmp_path / "out", assets)
    run_pretrain(cfg)  # learn the folder's key
    [lock] = (tmp_path / "out/.work").glob("*.lock")
    holder = subprocess.Popen(  # another process holds the lock, as a concurrent run would
        [
            sys.executable,
            "-c",
            "import fcntl, sys, time; f = open(sys.argv[1], 'a+'); "
            "fcntl.flock(f, fcntl.LOCK_EX); f.truncate(0); f.write('pid 4242 on node7'); "
            "f.flush(); print('held', flush=True); time.sleep(60)",
            str(lock),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(OutputInUseError, match="in use by another data prep \\(pid 4242"):
            run_pretrain(_pretrain_cfg(tmp_path / "out", assets))
        with pytest.raises(SystemExit) as exit_:
            pretrain.main(
                [
                    "-c",
                    "tiny",
                    f"output_dir={tmp_path / 'out'}",
                    f"sources=[{{name: a, path: '{cfg.sources[0].path}'}}]",
                    "split.valid=0",
                    "split.test=0",
                ]
            )
        assert exit_.value.code == 2
    finally:
        holder.kill()
        holder.communicate()  # (closes its pipe)
    with open(lock) as f:  # released: the next run takes it
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_two_concurrent_runs_of_one_config_one_publishes_the_other_is_refused_or_reuses(
    tmp_path: Path, corpus: Path
) -> None:
    args = [
        sys.executable,
        "-m",
        "nemotron.recipes.nano3.data_prep.pretrain",
        "-c",
        "tiny",
        f"output_dir={tmp_path / 'out'}",
        f"sources=[{{name: c, path: '{corpus}'}}]",
        "run.shard_bytes=60000",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    runs = [
        subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outcomes = [(p.wait(timeout=180), *p.communicate()) for p in runs]
    codes = sorted(code for code, _, _ in outcomes)
    assert codes in ([0, 0], [0, 2]), outcomes
    for code, _out, err in outcomes:
        assert "Traceback" not in err and "FileNotFoundError" not in err
        if code == 2:
            assert err.strip().splitlines()[-1].startswith("error: output folder")
            assert "in use by another data prep" in err
    versions = get_registry().list_versions("nano3-pretrain-data")  # v2: the loser reused v1
    assert len(versions) == codes.count(0) and len({v.path for v in versions}) == 1


def test_a_run_stopped_in_the_final_join_leaves_nothing_in_the_published_folder(
    tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = _indexed.concatenate
    calls = []

    def dies_midway(prefixes: list[Path], out_bin: object, out_idx: object, dtype: type) -> object:
        calls.append(1)
        if len(calls) == 2:  # the first file is joined, the second half-written
            out_bin.write(b"\0" * 1000)  # type: ignore[attr-defined]
            raise OSError(28, "No space left on device")
        return real(prefixes, out_bin, out_idx, dtype)  # type: ignore[arg-type]

    cfg = PretrainDataConfig(
        sources=[SourceConfig(name="c", path=str(corpus))],
        tokenizer="@nano3/tokenizer",
        output_dir=str(tmp_path / "out"),
        split=SplitConfig(valid=0.2),
    )
    cfg.run.workers = 1
    monkeypatch.setattr(_pretrain, "concatenate", dies_midway)
    with pytest.raises(OSError, match="No space"):
        run_pretrain(cfg)
    assert [p.name for p in (tmp_path / "out").iterdir()] == [".work"]  # nothing published
    monkeypatch.setattr(_pretrain, "concatenate", real)
    art = run_pretrain(cfg)  # resumes from the done records, rebuilds the staging folder
    names = [p.name for p in Path(art.path).rglob("*")]
    assert not [n for n in names if "tmp" in n or n.startswith(".")], names
    assert art.digest == compute_digest(art.path)

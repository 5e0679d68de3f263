"""Bad input to data prep: one line naming the file:line or key (exit 2, no traceback), refused
before any work where the config alone shows it, and nothing published."""

from __future__ import annotations

import gzip
import json
from importlib import import_module
from pathlib import Path

import pytest

from nemotron.kit.artifacts import get_registry

CHAT = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}


def _inputs(root: Path) -> dict[str, Path]:
    """Small input files, good and bad, under `root`."""
    root.mkdir(parents=True, exist_ok=True)
    files = {
        "latin1.jsonl": b'{"text": "ok"}\n{"text": "caf\xe9"}\n',
        "latin1-chat.jsonl": json.dumps(CHAT).encode() + b'\n{"messages": "\xff"}\n',
        "latin1-rl.jsonl": b'{"question": "1+1"}\n{"question": "\xfe"}\n',
        "fake.jsonl.gz": b'{"text": "not gzip at all"}\n',
        "chat.jsonl": (json.dumps(CHAT) + "\n").encode(),
        "broken.jinja": b"{% for m in messages %}{{ m.content }}",
    }
    for name, data in files.items():
        (root / name).write_bytes(data)
    return {name: root / name for name in files}


def _src(path: Path, field: str = "text") -> str:
    return f"sources=[{{name: s, path: '{path}', text_field: {field}}}]"


# (stage, arguments; {name} = a file of _inputs, {out} = the output folder) -> message fragment
CASES = [
    ("pretrain", [_src(Path("{latin1.jsonl}"))], "latin1.jsonl:2: not UTF-8 (byte 0xe9"),
    ("sft", [_src(Path("{latin1-chat.jsonl}"), "messages")], "latin1-chat.jsonl:2: not UTF-8"),
    ("rl", [_src(Path("{latin1-rl.jsonl}"), "question")], "latin1-rl.jsonl:2: not UTF-8"),
    ("pretrain", [_src(Path("{fake.jsonl.gz}"))], "fake.jsonl.gz: cannot decompress as .gz"),
    (
        "sft",
        ["chat_template=/no/such.jinja"],
        "config key `chat_template`: cannot read /no/such.jinja",
    ),
    (
        "sft",
        [_src(Path("{chat.jsonl}"), "messages"), "chat_template={broken.jinja}"],
        "broken.jinja: line 1: not a valid Jinja template",
    ),
    (
        "pretrain",
        ["output_dir=/proc/nope"],
        "config key `output_dir`: cannot write under /proc/nope",
    ),
    ("pretrain", ["sources.0.weight=-1"], "config key `sources[0].weight`: must be a number >= 0"),
    ("pretrain", ["sources.0.weight=0", "sources.1.weight=0"], "every blend weight is 0"),
    ("pretrain", ["sources.0.name=../x"], "config key `sources[0].name`: '../x' cannot name"),
    ("sft", ["pack_size=0"], "config key `pack_size`: must be a positive token count, got 0"),
    ("sft", ["pack_size=16"], "config key `pack_size`: no conversation fits 16 tokens"),
    ("rl", ["artifact_name=../x"], "config key `artifact_name`: invalid artifact name '../x'"),
    ("rl", ["on_bad_record=ignore"], "config key `on_bad_record`: must be `error` or `skip`"),
    ("pretrain", ["encoder=fast"], "config key `encoder`: must be one of auto, reference"),
    ("sft", ["encoder=fast"], "config key `encoder`: must be one of auto, reference"),
    ("pretrain", ["run.workers=-3"], "config key `run.workers`: must be at least 0"),
    ("rl", ["run.shard_bytes=0"], "config key `run.shard_bytes`: must be at least 1"),
    ("rl", ["run.engine=spark"], "config key `run.engine`: must be one of local, ray"),
]


@pytest.mark.parametrize(
    ("stage", "args", "message"), CASES, ids=[f"{c[0]}:{c[1][-1][:40]}" for c in CASES]
)
def test_bad_input_is_one_line_exit_2_and_nothing_published(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    stage: str,
    args: list[str],
    message: str,
) -> None:
    files = _inputs(tmp_path / "in")
    out = tmp_path / "out"
    argv = ["-c", "tiny", f"output_dir={out}"]
    for arg in args:
        for name, path in files.items():
            arg = arg.replace("{" + name + "}", str(path))
        argv.append(arg)
    main = import_module(f"nemotron.recipes.nano3.data_prep.{stage}").main
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_.value.code == 2
    errors = [line for line in err if line.startswith("error: ")]  # (beside progress lines)
    assert errors == err[-1:] and message in err[-1], err
    assert not any("Traceback" in line for line in err)
    assert get_registry().list_names() == []
    published = [p for p in out.iterdir() if not p.name.startswith(".")] if out.exists() else []
    assert published == []
    # Bad input leaves nothing to resume from: only the lock file stays beside the outputs.
    leftovers = [p.name for p in (out / ".work").iterdir()] if (out / ".work").exists() else []
    assert all(name.endswith(".lock") for name in leftovers), leftovers


@pytest.mark.parametrize(
    ("stage", "file", "field"),
    [
        ("pretrain", "latin1.jsonl", "text"),
        ("sft", "latin1-chat.jsonl", "messages"),
        ("rl", "latin1-rl.jsonl", "question"),
    ],
)
def test_non_utf8_records_are_skipped_and_counted(
    tmp_path: Path, stage: str, file: str, field: str
) -> None:
    files = _inputs(tmp_path / "in")
    main = import_module(f"nemotron.recipes.nano3.data_prep.{stage}").main
    art = main(
        [
            "-c",
            "tiny",
            f"output_dir={tmp_path / 'out'}",
            _src(files[file], field),
            "on_bad_record=skip",
        ]
    )
    assert art.metadata["bad_records"] == 1
    assert art.metadata["bad_record_examples"] == [
        f"{files[file]}:2: not UTF-8" + art.metadata["bad_record_examples"][0].split("not UTF-8")[1]
    ]


def test_sft_summary_counts_dropped_conversations_in_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from nemotron.recipes.nano3.data_prep import sft

    chat = tmp_path / "chat.jsonl"
    long = {"messages": [{"role": "user", "content": "word " * 400}, CHAT["messages"][1]]}
    chat.write_text(json.dumps(CHAT) + "\n" + json.dumps(long) + "\n")
    art = sft.main(
        [
            "-c",
            "tiny",
            f"output_dir={tmp_path / 'out'}",
            _src(chat, "messages"),
            "pack_size=64",
            "split.valid=0",
        ]
    )
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert art.metadata["dropped_too_long"] == 1
    assert last.startswith(
        "sft data: 1 conversation (1 longer than pack_size dropped) -> 1 pack of 64 tokens "
        "(packing efficiency: training "
    )
    assert "{" not in last and "1 packs" not in last and art.uri in last


def test_import_writes_nothing_into_the_folder_and_refuses_a_bad_pack_size(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import os

    from nemotron.kit.artifacts import SplitJsonlDataArtifact
    from nemotron.recipes.nano3.data_prep._importing import import_rl, import_sft
    from nemotron.recipes.nano3.data_prep.errors import DataPrepConfigError

    folder = tmp_path / "prepared"
    folder.mkdir()
    (folder / "train.jsonl").write_text('{"question": "1+1"}\n')
    folder.chmod(0o555)  # read-only (root may still write: so also check nothing was written)
    try:
        art = import_rl(folder, name="imported")
        assert sorted(os.listdir(folder)) == ["train.jsonl"]
        assert (
            SplitJsonlDataArtifact.from_uri("art://imported:v1").train_count == 1 == art.train_count
        )
    finally:
        folder.chmod(0o755)
    with pytest.raises(
        DataPrepConfigError, match="--pack-size`: must be a positive token count, got -5"
    ):
        import_sft(folder, pack_size=-5)


def test_gzip_input_that_is_fine_still_reads(tmp_path: Path) -> None:
    from nemotron.recipes.nano3.data_prep import pretrain

    path = tmp_path / "ok.jsonl.gz"
    with gzip.open(path, "wt") as f:
        f.write('{"text": "hello world"}\n')
    art = pretrain.main(
        [
            "-c",
            "tiny",
            f"output_dir={tmp_path / 'out'}",
            _src(path),
            "split.valid=0",
            "split.test=0",
        ]
    )
    assert art.total_sequences == 1

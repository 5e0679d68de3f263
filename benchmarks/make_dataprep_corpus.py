"""Build benchmarks/.data/dataprep-corpus.jsonl (>= 100 MB of real English/code text, offline).

Documents are the text files installed with this machine's Python: the standard library's and
site-packages' `.py`, `.rst`, `.md` and `.txt` files (PSF, MIT, BSD, Apache licensed), one
document per file (long files cut at 16 kB), in sorted path order, so the corpus is the same
wherever the same packages are installed.

    uv run --no-sync python benchmarks/make_dataprep_corpus.py [--mb 110] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
import sysconfig
from pathlib import Path

OUT = Path(__file__).resolve().parent / ".data" / "dataprep-corpus.jsonl"
SUFFIXES = {".py", ".rst", ".md", ".txt"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=110)
    parser.add_argument("--out", type=Path, default=OUT, help="where to write the JSONL")
    args = parser.parse_args()
    out_path: Path = args.out
    roots = sorted(
        {
            Path(sysconfig.get_paths()["stdlib"]),
            Path(sysconfig.get_paths()["purelib"]),
            Path(sys.prefix),
        }
    )
    target = args.mb * 1_000_000
    out_path.parent.mkdir(parents=True, exist_ok=True)
    written = docs = 0
    seen: set[Path] = set()
    with out_path.open("w", encoding="utf-8") as out:
        for root in roots:
            for path in sorted(root.rglob("*")):
                if written >= target:
                    break
                if path.suffix not in SUFFIXES or not path.is_file() or path.resolve() in seen:
                    continue
                seen.add(path.resolve())
                try:
                    text = path.read_text(encoding="utf-8")
                except (UnicodeDecodeError, OSError):
                    continue
                for start in range(0, len(text), 16_000):
                    chunk = text[start : start + 16_000]
                    if chunk.strip():
                        line = json.dumps({"text": chunk}, ensure_ascii=False) + "\n"
                        out.write(line)
                        written += len(line.encode())
                        docs += 1
    print(f"{out_path}: {docs:,} documents, {written / 1e6:.1f} MB")


if __name__ == "__main__":
    main()

"""model_cards/ holds cards made from the committed rows file by one documented command; making them again
from that file must give the same bytes (and no card without rows, no rows without a card)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from tests.conftest import run_cli

CARDS = Path(__file__).resolve().parents[3] / "model_cards"


def test_committed_cards_regenerate_byte_identical_from_the_committed_rows(tmp_path):
    (tmp_path / "model_cards").mkdir()
    shutil.copy(CARDS / "results.jsonl", tmp_path / "model_cards" / "results.jsonl")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZOO_BENCH_")}
    proc = run_cli(["card", "--rows", "model_cards/results.jsonl", "--output-dir", "model_cards"], env=env,
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    made = {p.name: p.read_bytes() for p in (tmp_path / "model_cards").glob("*.md")}
    committed = {p.name: p.read_bytes() for p in CARDS.glob("*.md") if p.name != "README.md"}
    assert made.keys() == committed.keys()
    different = [name for name in made if made[name] != committed[name]]
    assert not different, f"regenerate with `zoo-bench card --rows model_cards/results.jsonl`: {different}"
    models = {json.loads(line)["model"] for line in (CARDS / "results.jsonl").read_text().splitlines()}
    assert {f"{m}.md" for m in models} == committed.keys()


def test_a_rows_file_that_is_not_rows_is_a_usage_error(tmp_path, zb_env):
    bad = tmp_path / "rows.jsonl"
    bad.write_text('{"model": "m"}\n')
    proc = run_cli(["card", "--rows", str(bad), "--output-dir", str(tmp_path / "c")], env=zb_env)
    assert proc.returncode == 2 and f"{bad}:1: not a zoo-bench row" in proc.stderr

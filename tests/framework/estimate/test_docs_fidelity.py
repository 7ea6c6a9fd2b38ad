"""docs/estimators.md holds the fidelity summary of the shipped data; it must be what the code gives
(issue 17 item 7). Regenerate the block with `zoo-bench fidelity --markdown`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from zoo_bench.estimate.data import points_files
from zoo_bench.estimate.estimators import fit_all
from zoo_bench.estimate.fidelity import summary_markdown

pytest.importorskip("scipy")

DOC = Path(__file__).resolve().parents[3] / "docs" / "estimators.md"


def test_the_fidelity_block_of_the_docs_is_what_the_code_gives():
    block = re.search(r"<!-- fidelity-summary:start -->\n(.*?)<!-- fidelity-summary:end -->", DOC.read_text(),
                      flags=re.DOTALL)
    assert block, "docs/estimators.md lost its fidelity-summary markers"
    assert block.group(1) == summary_markdown(fit_all(points_files())), \
        "run `zoo-bench fidelity --markdown` and paste it between the markers in docs/estimators.md"

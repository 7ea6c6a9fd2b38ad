"""Docs that tests keep honest: every hook documented with its exact signature and exercised
by a test; every metric the code emits listed in docs/metrics.md."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from zoo_bench import hookspecs

ROOT = Path(__file__).resolve().parents[2]
HOOKS = {n: f for n, f in inspect.getmembers(hookspecs, inspect.isfunction) if n.startswith("zoo_bench_")}


def signature_text(name: str, fn) -> str:
    sig = inspect.signature(fn)
    params = ", ".join(f"{p.name}: {p.annotation}" for p in sig.parameters.values())
    return f"{name}({params}) -> {sig.return_annotation}"


def documented_metrics() -> set[str]:
    text = (ROOT / "docs" / "metrics.md").read_text()
    return set(re.findall(r"^\| `([a-z0-9_]+)` \|", text, flags=re.MULTILINE))


@pytest.mark.parametrize("name", sorted(HOOKS))
def test_every_hook_is_documented_with_its_exact_signature(name):
    headings = re.findall(r"^### (.+)$", (ROOT / "docs" / "plugins.md").read_text(), flags=re.MULTILINE)
    assert signature_text(name, HOOKS[name]) in headings


def test_docs_name_no_hook_that_does_not_exist():
    headings = re.findall(r"^### (zoo_bench_\w+)", (ROOT / "docs" / "plugins.md").read_text(), flags=re.MULTILINE)
    assert set(headings) == set(HOOKS)


@pytest.mark.parametrize("name", sorted(HOOKS))
def test_every_hook_has_a_docstring_and_is_exercised_by_a_test(name):
    assert (HOOKS[name].__doc__ or "").strip()
    users = [p for p in (ROOT / "tests").rglob("*.py")
             if p.name != "test_docs.py" and re.search(rf"def {name}\(", p.read_text())]
    assert users, f"no test plugin implements {name}"


def emitted_metrics() -> set[str]:
    pattern = re.compile(r"""\b(?:Figure|fig)\(\s*(?:metric=)?["']([a-z0-9_]+)["']""")
    found = set()
    for folder in ("framework", "plugins"):
        for path in (ROOT / folder).rglob("*.py"):
            found.update(pattern.findall(path.read_text()))
    return found


def test_every_metric_the_code_emits_is_documented():
    missing = emitted_metrics() - documented_metrics()
    assert not missing, f"add to docs/metrics.md: {sorted(missing)}"


def test_required_metrics_are_documented():
    required = {"latency_p50_ms", "latency_p90_ms", "latency_p99_ms", "inferences_per_s", "activation_ram_kib",
                "weights_flash_kib", "model_size_kib", "params", "macs", "top1", "top1_float", "top1_int8",
                "int8_agreement"}
    assert required <= documented_metrics()

"""The CI recipes of examples/ci/ (issue 21 item 3), run as their CI would run them.

The command sequence is read from the YAML, not copied here: GitHub's `run:` steps in order, each as GitHub runs
a `shell: bash` step (`bash --noprofile --norc -eo pipefail FILE`), honouring `if: always()`; GitLab's `script`
lines in one `bash -e` shell, then `after_script` whatever happened. Not run: the install step (zoo-bench is
installed here already) and the `uses:` actions (checkout, cache restore/save, artifact upload): the store and the
cache stay in the work folder between the nights, which is what the cache actions do on GitHub.

Three nights on a tiny int8 .tflite built in the test (LiteRT on the host CPU): the first has nothing to compare
with and must pass; the second compares with the pinned baseline and writes a history of two runs; the third
names a baseline label that does not exist, and the failure must reach the step's exit code through `| tee`
(pipefail) while the history step still runs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e  # real TensorFlow conversion and LiteRT timings
RECIPES = ROOT / "examples" / "ci"
EXPRESSION = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")


@pytest.fixture(scope="module")
def tiny_tflite(tmp_path_factory) -> Path:
    pytest.importorskip("tensorflow", reason="building the tiny model needs tensorflow (zoo-bench[host])")
    out = tmp_path_factory.mktemp("tiny")
    proc = subprocess.run([sys.executable, str(ROOT / "tests" / "plugins" / "nxp_imx" / "tiny_models.py"), str(out)],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out / "tiny_int8.tflite"


def base_env(tmp_path: Path) -> dict[str, str]:
    """This environment without zoo-bench settings, and a `zoo-bench` on PATH that is the code under test."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    exe = bin_dir / "zoo-bench"
    exe.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m zoo_bench.cli "$@"\n')
    exe.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZOO_BENCH_", "GITHUB_", "CI_"))}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    return env


def github_night(workspace: Path, env: dict[str, str], expressions: dict[str, str],
                 overrides: dict[str, str]) -> dict[str, int]:
    """Run the workflow's `run:` steps once; return each step's exit code by name (skipped steps absent)."""
    flow = yaml.safe_load((RECIPES / "github-nightly.yml").read_text())

    def expand(text: str) -> str:
        def one(m: re.Match) -> str:
            assert m.group(1) in expressions, f"the test does not know the expression {m.group(0)}"
            return expressions[m.group(1)]
        return EXPRESSION.sub(one, str(text))

    job = flow["jobs"]["nightly"]
    assert job["defaults"]["run"]["shell"] == "bash"
    step_env = {**env, **{k: expand(v) for k, v in flow["env"].items()}, **overrides}
    codes: dict[str, int] = {}
    failed = False
    for k, step in enumerate(job["steps"]):
        if "uses" in step or step.get("id") == "install":
            continue
        condition = step.get("if")
        if condition is None and failed:
            continue
        assert condition in (None, "${{ always() && steps.install.outcome == 'success' }}"), condition
        assert "${{" not in step["run"], "keep expressions out of scripts: pass them through env"
        script = workspace / f".step{k}.sh"
        script.write_text(step["run"])
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=workspace,
                              env=step_env, capture_output=True, text=True, timeout=600)
        codes[step["name"]] = proc.returncode
        failed = failed or proc.returncode != 0
    return codes


def test_github_nightly_recipe_three_nights(tmp_path, tiny_tflite):
    ws = tmp_path / "ws"
    ws.mkdir()
    env = base_env(tmp_path)
    summary = ws / "summary.md"
    overrides = {"MODEL": str(tiny_tflite), "RUNS": "100", "GITHUB_STEP_SUMMARY": str(summary),
                 # a 0.02 ms model on a machine shared with other tests: the recipe's flow is tested here,
                 # the noise-aware verdicts in tests/framework/reports/test_compare.py and test_history.py
                 "LATENCY_THRESHOLD": "50"}

    def night(n: int, label: str, baseline: str) -> dict[str, int]:
        summary.write_text("")
        expressions = {"github.workspace": str(ws), "vars.ZOO_BENCH_BASELINE": baseline, "inputs.label": label}
        return github_night(ws, env, expressions, {**overrides, "GITHUB_RUN_NUMBER": str(n)})

    first = night(1, "baseline", "baseline")
    assert first == {"Benchmark": 0, "Compare with the baseline": 0, "History page and job summary": 0}
    assert "**zoo-bench compare: first run**" in (ws / "compare.md").read_text()
    assert "**zoo-bench history**: 1 runs" in summary.read_text()
    assert (ws / ".zoo-bench-cache").is_dir() and (ws / "zoo-bench-results" / "runs").is_dir()

    second = night(2, "", "baseline")
    assert set(second.values()) == {0}, second
    runs = sorted(p.name for p in (ws / "zoo-bench-results" / "runs").iterdir())
    compare_md = (ws / "compare.md").read_text()
    assert "✅ no regression" in compare_md and f"base `{runs[0]}` → new `{runs[1]}`" in compare_md
    text = summary.read_text()
    assert "**zoo-bench compare" in text and "**zoo-bench history**: 2 runs" in text
    page = (ws / "history.html").read_text()
    assert page.count('<svg class="plot"') >= 2 and "nightly-2" in page and "baseline" in page

    third = night(3, "", "no-such-label")
    assert third["Benchmark"] == 0
    assert third["Compare with the baseline"] == 2  # through `| tee compare.md`: pipefail keeps it
    assert third["History page and job summary"] == 0  # always(): the page is still made
    assert "**zoo-bench history**: 3 runs" in summary.read_text()


def gitlab_night(workspace: Path, env: dict[str, str], overrides: dict[str, str]) -> tuple[int, int]:
    """Run the job's `script` (one shell, stops at the first failing line) and `after_script`; their exit codes."""
    job = yaml.safe_load((RECIPES / "gitlab-nightly.yml").read_text())["zoo-bench-nightly"]
    assert job["artifacts"]["when"] == "always" and job["cache"]["when"] == "always"
    job_env = {**env, "CI_PROJECT_DIR": str(workspace), **overrides}
    for name, value in job["variables"].items():  # GitLab expands $VARS in variables
        job_env[name] = re.sub(r"\$(\w+)", lambda m: job_env.get(m.group(1), ""), str(value))
    job_env.update(overrides)

    def shell(lines: list[str], name: str) -> int:
        script = workspace / f".{name}.sh"
        script.write_text("\n".join(lines) + "\n")
        done = subprocess.run(["bash", "-e", str(script)], cwd=workspace, env=job_env, capture_output=True,
                              text=True, timeout=600)
        print(f"--- {name}: exit {done.returncode}\n{done.stdout}\n{done.stderr}")  # shown when a test fails
        return done.returncode

    return shell(job["script"], "script"), shell(job["after_script"], "after_script")


def test_gitlab_nightly_recipe_two_nights_and_a_failing_one(tmp_path, tiny_tflite):
    ws = tmp_path / "ws"
    ws.mkdir()
    env = base_env(tmp_path)
    common = {"MODEL": str(tiny_tflite), "RUNS": "100", "LATENCY_THRESHOLD": "50"}  # see the GitHub test
    assert gitlab_night(ws, env, {**common, "CI_PIPELINE_IID": "1", "LABEL": "baseline"}) == (0, 0)
    assert "**zoo-bench compare: first run**" in (ws / "compare.md").read_text()
    assert gitlab_night(ws, env, {**common, "CI_PIPELINE_IID": "2", "ZOO_BENCH_BASELINE": "baseline"}) == (0, 0)
    assert "✅ no regression" in (ws / "compare.md").read_text()
    assert "**zoo-bench history**: 2 runs" in (ws / "history.md").read_text()
    assert (ws / "history.html").read_text().count('<svg class="plot"') >= 2
    failing = gitlab_night(ws, env, {**common, "CI_PIPELINE_IID": "3", "ZOO_BENCH_BASELINE": "no-such-label"})
    assert failing == (2, 0)  # the job fails with compare's code; after_script still writes the history
    assert "**zoo-bench history**: 3 runs" in (ws / "history.md").read_text()


def _commands(text: str) -> list[str]:
    """`zoo-bench ...` commands of a shell text, continuation lines joined, whitespace normalised."""
    joined = re.sub(r"\\\n\s*", " ", text)
    return [" ".join(line.split()) for line in joined.splitlines() if line.strip().startswith("zoo-bench ")]


def test_the_commands_in_docs_ci_md_are_those_of_the_recipes():
    docs = (ROOT / "docs" / "ci.md").read_text()
    shown = _commands(docs.split("```bash", 1)[1].split("```", 1)[0])
    github = yaml.safe_load((RECIPES / "github-nightly.yml").read_text())["jobs"]["nightly"]["steps"]
    in_github = [c for step in github if "run" in step for c in _commands(step["run"])]
    gitlab = yaml.safe_load((RECIPES / "gitlab-nightly.yml").read_text())["zoo-bench-nightly"]
    in_gitlab = _commands("\n".join(gitlab["script"] + gitlab["after_script"]))
    assert len(shown) == 3
    assert [c.replace('nightly-$N', 'nightly-$GITHUB_RUN_NUMBER') for c in shown] == [
        c.replace('"${LABEL:-nightly-$GITHUB_RUN_NUMBER}"', '"nightly-$GITHUB_RUN_NUMBER"') for c in in_github]
    assert [c.replace('nightly-$N', 'nightly-$CI_PIPELINE_IID') for c in shown] == [
        c.replace('"${LABEL:-nightly-$CI_PIPELINE_IID}"', '"nightly-$CI_PIPELINE_IID"') for c in in_gitlab]

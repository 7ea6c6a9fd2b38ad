"""Runs one stage in its own process: ``python -m zoo_bench.worker REQUEST.json``.

The CLI process never imports tensorflow or torch; each stage that needs them gets a fresh
process that returns its memory when it exits, and a stage that aborts (TFLM's ``abort()``)
takes only itself down. The worker writes ``result.json`` into the stage's staging
directory whatever happens: ``ok`` with the artifact and figures, ``skipped`` for
:class:`ToolUnavailable`, ``failed`` with the error otherwise. A process that dies before
writing it is reported as failed by the parent, with the tail of its log.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from .components import Compiler, Component, ModelSource, Quantizer, Runner, StageContext, StageOutput
from .errors import ToolUnavailable, UsageError
from .plan import STAGE_KINDS
from .plugins import get_registry
from .serialize import artifact_from_dict, artifact_to_dict, figure_to_dict, spec_from_dict


def call_component(component: Component, kind: str, ctx: StageContext) -> StageOutput:
    if kind == "source":
        assert isinstance(component, ModelSource)
        return component.build(ctx.model, ctx)
    if kind == "export":
        assert isinstance(component, ModelSource)
        return component.export(ctx.options["format"], ctx)
    if kind == "quantize":
        assert isinstance(component, Quantizer)
        return component.quantize(ctx)
    if kind == "compile":
        assert isinstance(component, Compiler)
        return component.compile(ctx)
    assert isinstance(component, Runner)
    return component.run(ctx)


def run_request(request: dict[str, Any]) -> dict[str, Any]:
    workdir = Path(request["workdir"])
    stage = request["stage"]
    registry = get_registry()
    result: dict[str, Any] = {"status": "ok", "reason": "", "figures": [], "artifact": None}
    t0 = time.time()
    try:
        target = registry.targets[request["target"]]
        component = registry.component(STAGE_KINDS[stage["kind"]], stage["component"])
        result["tool_versions"] = component.tool_versions()
        inputs = {k: artifact_from_dict(v, Path("/")) for k, v in request["inputs"].items()}
        ctx = StageContext(
            model=spec_from_dict(request["model"]),
            target=target,
            stage_id=stage["id"],
            options=request["options"],
            inputs=inputs,
            workdir=workdir,
            registry=registry,
        )
        output = call_component(component, stage["kind"], ctx)
        if output.artifact is not None:
            result["artifact"] = artifact_to_dict(output.artifact, workdir)
        result["figures"] = [figure_to_dict(f) for f in output.figures]
    except ToolUnavailable as exc:
        result.update(status="skipped", reason=str(exc))
    except UsageError as exc:
        result.update(status="failed", reason=str(exc))
    except Exception as exc:
        result.update(status="failed", reason=f"{type(exc).__name__}: {exc}".strip())
        traceback.print_exc()
    result["duration_s"] = time.time() - t0
    return result


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    request = json.loads(Path(argv[0]).read_text())
    result = run_request(request)
    out = Path(request["result"])
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, default=str))
    tmp.replace(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A fake board for executor tests (ZOO_BENCH_PLUGINS=zb_fake_plugin,zb_fake_board_plugin).

The target ``fake_board`` builds the fake model and "times it on board lab1": the runner
declares a ``board`` option, so the stage occupies ``board-lab1`` and, under Dask, runs only on
a worker owning that resource. Its figure says which worker ran it ($ZB_WORKER_NAME).
"""

from __future__ import annotations

import os

import numpy as np
from zoo_bench import Figure, Runner, StageOutput, Target, hookimpl


class FakeBoardRunner(Runner):
    """Pretends to time on a board; reports which worker process ran it."""

    name = "fake_board_numpy"
    accepts = ("npz",)
    options = {"board": "board id"}

    def run(self, ctx):
        np.load(ctx.input.path)
        who = os.environ.get("ZB_WORKER_NAME", "")
        return StageOutput(figures=[Figure("latency_p50_ms", 1.0, "ms", "measured-board", "fake-board", "0",
                                           extra={"worker": who, "board": ctx.options.get("board")})])


class FakeBoardTarget(Target):
    def plan(self, model, p):
        return [p.run(p.source(), "fake_board_numpy", board="lab1")]


@hookimpl
def zoo_bench_register_runners(register):
    register(FakeBoardRunner())


@hookimpl
def zoo_bench_register_targets(register):
    register(FakeBoardTarget(id="fake_board", vendor="fakes", device_class="NPU"))

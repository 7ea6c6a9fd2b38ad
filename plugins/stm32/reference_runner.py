"""The ``litert_ref`` runner: LiteRT with its reference kernels, the MCU path's host stand-in.

TFLM's kernels (what an STM32 running TFLite Micro executes) give the same int8 outputs as
LiteRT's reference kernels (``OpResolverType.BUILTIN_REF``), not as its default optimized ones,
which differ by a few LSB (TOOLCHAIN.md). The accuracy evaluator uses this runner's ``predict``
for the STM32 MCU and N6 TFLite paths. Timings it makes are host figures of slow reference
kernels, labelled ``measured-host`` like every host runner's.
"""

from __future__ import annotations

from zoo_bench.builtin.host import LiteRtRunner
from zoo_bench.plugin import UsageError


class LiteRtReferenceRunner(LiteRtRunner):
    """LiteRT interpreter with reference kernels (bit-exact with TFLM) on this CPU."""

    name = "litert_ref"

    def _interpreter(self, path: str, threads: int):
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        try:
            interp = Interpreter(model_path=path, num_threads=threads,
                                 experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
            interp.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise UsageError(f"LiteRT cannot load {path}: {exc}") from exc
        return interp

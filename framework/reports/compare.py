"""Compare two runs figure by figure: what CI prints when it puts last night beside tonight.

Rows are matched on (model, target, stage, metric, variant). Each metric has a direction
(lower latency is better, higher accuracy is better); a change worse than the threshold is a
regression. Stages that were ok in the base run and are not ok now are regressions too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: metric -> +1 when higher is better, -1 when lower is better. Others are reported, not judged.
DIRECTION = {
    "latency_p50_ms": -1, "latency_p90_ms": -1, "latency_p99_ms": -1, "latency_mean_ms": -1, "init_ms": -1,
    "inferences_per_s": 1, "activation_ram_kib": -1, "weights_flash_kib": -1, "model_size_kib": -1,
    "sram_used_kib": -1, "dram_used_kib": -1, "npu_cycles": -1, "npu_op_share": 1,
    "top1": 1, "top1_float": 1, "top1_int8": 1, "top5_float": 1, "top5_int8": 1, "int8_agreement": 1,
}

Key = tuple[str, str, str, str, str]


@dataclass
class Change:
    key: Key
    base: float | None
    new: float | None
    base_status: str
    new_status: str
    method: str
    verdict: str  # regression, improvement, same, new, gone, broken, fixed

    @property
    def delta_pct(self) -> float | None:
        if self.base in (None, 0) or self.new is None:
            return None
        return 100.0 * (self.new - self.base) / abs(self.base)


def _index(rows: list[dict[str, Any]]) -> dict[Key, dict[str, Any]]:
    out = {}
    for r in rows:
        metric = r["metric"] if r["status"] == "ok" else "stage_seconds"
        out[(r["model"], r["target"], r["stage"], metric, r["variant"])] = r
    return out


def compare_rows(base_rows: list[dict[str, Any]], new_rows: list[dict[str, Any]],
                 threshold_pct: float = 10.0) -> list[Change]:
    base, new = _index(base_rows), _index(new_rows)
    changes = []
    for key in sorted(set(base) | set(new)):
        b, n = base.get(key), new.get(key)
        metric = key[3]
        if metric == "stage_seconds" and b and n and b["status"] == n["status"] == "ok":
            continue  # wall time of stages is not a benchmark figure
        b_val = b["value"] if b and b["status"] == "ok" else None
        n_val = n["value"] if n and n["status"] == "ok" else None
        b_status = b["status"] if b else "absent"
        n_status = n["status"] if n else "absent"
        if b is None:
            verdict = "new"
        elif n is None:
            verdict = "gone"
        elif b_status == "ok" and n_status != "ok":
            verdict = "broken"
        elif b_status != "ok" and n_status == "ok":
            verdict = "fixed"
        elif b_val is None or n_val is None:
            verdict = "same"
        else:
            verdict = "same"
            direction = DIRECTION.get(metric, 0)
            if direction and b_val != 0:
                pct = 100.0 * (n_val - b_val) / abs(b_val)
                if pct * direction < -threshold_pct:
                    verdict = "regression"
                elif pct * direction > threshold_pct:
                    verdict = "improvement"
        method = (n or b or {}).get("method", "")
        changes.append(Change(key, b_val, n_val, b_status, n_status, method, verdict))
    return changes


def is_failure(change: Change) -> bool:
    return change.verdict in ("regression", "broken")

"""Whole-buffer placement into banked RAM pools, the rest spilled to external RAM."""

from __future__ import annotations

from zoo_bench.estimate.placement import Pool, place_buffers

KIB = 1024


def _chain(*sizes_kib: int) -> dict:
    """A chain of operators: tensor i -> tensor i+1, sizes in KiB (each lives two steps)."""
    n = len(sizes_kib)
    steps = [[[i], [i + 1], "CONV_2D", "conv"] for i in range(n - 1)]
    return {"steps": steps, "sizes": {str(i): s * KIB for i, s in enumerate(sizes_kib)}, "inputs": [0],
            "outputs": [n - 1]}


def test_buffers_go_whole_into_pools_in_order_and_spill_when_none_has_room():
    pools = [Pool("flat", 100), Pool("banks", 400, 4)]
    # 60 KiB in, 150 out: the 150 KiB buffer is too big for "flat" and for one 100 KiB bank,
    # so it spans two banks from a boundary; the 60 KiB one goes to "flat"
    p = place_buffers(_chain(60, 150), pools)
    assert p.used_kib == {"flat": 60.0, "banks": 150.0} and p.external_kib == 0.0
    # 500 KiB fits no pool: it spills whole to external RAM
    p = place_buffers(_chain(60, 500), pools)
    assert p.external_kib == 500.0 and p.internal_kib == 60.0


def test_a_bank_counts_as_far_as_it_is_filled():
    p = place_buffers(_chain(30, 30, 30), [Pool("banks", 400, 4)])
    # two buffers live at once (in, out): 30 + 30 in one bank; the third reuses the first's place
    assert p.internal_kib == 60.0


def test_a_placement_model_has_no_parameter_so_its_lomo_error_is_its_error():
    from zoo_bench.estimate.fit import Sample, fit_model

    samples = [Sample({"model": f"n{i}", "value": 100.0 + 10 * i}, f"n{i}", [95.0 + 12 * i]) for i in range(5)]
    m = fit_model("t", "internal_ram_kib", samples, ("placed_internal_kib",))
    assert m.coefficients == [1.0]
    assert m.lomo == [(s.features[0] - s.point["value"]) / s.point["value"] for s in samples]

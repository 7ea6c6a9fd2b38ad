"""The first tables of a model card: network information, inputs/outputs and recommended platforms
(split from :mod:`.card_tables`, whose row lookups they use)."""

from __future__ import annotations

from .card_tables import MARKERS, CardRows, Table, extra_of, num, resolution_text, tool_of, tools
from .escape import md_code, md_text


def network_information(cr: CardRows) -> Table:
    src = [r for r in cr.rows if r["stage_kind"] == "source"]
    params = cr.best(cr.targets[0], ["params"]) if cr.targets else None
    macs = cr.best(cr.targets[0], ["macs"]) if cr.targets else None
    quant = sorted({r["component"] for r in cr.rows if r["stage_kind"] == "quantize" and r["component"]})
    first = cr.rows[0]
    t = Table("Network information", ["Network Information", "Value"])
    exports = sorted({tool_of(r) for r in cr.ok if r["stage_kind"] in ("export", "quantize")})
    framework = md_text(src[0]["component"]) if src else "-"
    t.rows.append(["Framework", framework + (f" (converted with {', '.join(exports)})" if exports else "")])
    t.rows.append(["MParams", f"{num(params['value'] / 1e6)} M {MARKERS.get(params['method'], '')} "
                   f"({tool_of(params)})" if params else cr.why_missing(cr.targets[0], ("source",))])
    if macs:
        t.rows.append(["MMACs", f"{num(macs['value'] / 1e6)} M {MARKERS.get(macs['method'], '')} ({tool_of(macs)})"])
    t.rows.append(["Quantization", f"int8 ({md_text(', '.join(quant))})" if quant else "none in this run"])
    t.rows.append(["Provenance", f"{md_text(first['weights'] or 'unknown')} weights, from model source "
                   f"{md_code(src[0]['component'] if src else '?')}"])
    t.rows.append(["Resolution", resolution_text(cr)])
    t.rows.append(["Classes", str(cr.classes)])
    return t


def inputs_outputs(cr: CardRows) -> list[Table]:
    n = cr.resolution
    quant = sorted({r["component"] for r in cr.rows if r["stage_kind"] == "quantize" and r["component"]})
    # ONNX models are channels-first, TFLite ones channels-last (the quantizer's name says which format)
    layouts = sorted({f"(1, 3, {n}, {n})" if "onnx" in q else f"(1, {n}, {n}, 3)" for q in quant}) or \
        [f"(1, {n}, {n}, 3)"]
    inputs = Table("Inputs", ["Input Shape", "Description"],
                   [[shape, f"Single {n}x{n} RGB image"] for shape in layouts])
    outputs = Table("Outputs", ["Output Shape", "Description"],
                    [[f"(1, {cr.classes})", f"Per-class confidence for {cr.classes} classes"]])
    return [inputs, outputs]


def recommended_platforms(cr: CardRows) -> Table:
    """Supported: the model fits with the board's external memory. Recommended: it fits the chip's own
    memory, judged on the chip's design: a chip with no internal memory of a kind (the STM32N6 has no
    internal flash; its weights live in external flash by design) is judged on its external memory."""
    t = Table("Recommended platforms", ["Platform", "Supported", "Recommended", "Fit verdict"])
    for target in cr.targets:
        fits = [r for r in cr.ok if r["target"] == target and r["metric"].startswith("fits_")]
        if fits:
            outer = [r for r in fits if "external" in r["metric"]] or fits
            supported, recommended = all(r["value"] >= 1 for r in outer), True
            notes = []
            for r in (r for r in fits if "internal" in r["metric"]):
                kind = r["metric"].rsplit("_", 1)[-1]
                if extra_of(r).get("internal_kib") == 0:  # none on the chip: external is its normal case
                    ext = [e for e in outer if e["metric"].endswith("_" + kind)]
                    recommended = recommended and all(e["value"] >= 1 for e in ext)
                    notes.append(f"the chip has no internal {md_text(kind)}: external {md_text(kind)} is its design")
                else:
                    recommended = recommended and r["value"] >= 1
            if not any("internal" in r["metric"] for r in fits):
                recommended = all(r["value"] >= 1 for r in fits)
            verdicts = {r["metric"].rsplit("_", 1)[-1]: extra_of(r).get("verdict") for r in fits}
            why = "; ".join(f"{md_text(k)}: {md_text(v)}" for k, v in sorted(verdicts.items()) if v) \
                or "from fits_* rows"
            why += "".join(f" ({n})" for n in notes)
            why += f" {MARKERS.get(fits[0]['method'], '')} ({tools(fits)})"
        else:
            ran = any(r["status"] == "ok" and r["stage_kind"] in ("compile", "run") and r["metric"] == "stage_seconds"
                      and r["target"] == target for r in cr.rows)
            supported, recommended = ran, False
            why = "no fit verdict rows for this target" + ("" if ran else "; " + cr.why_missing(target, ("compile",)))
        t.rows.append([md_text(target), "[x]" if supported else "[]", "[x]" if recommended else "[]", why])
    return t

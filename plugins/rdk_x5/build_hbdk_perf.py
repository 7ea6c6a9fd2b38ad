"""Compile the RDK X5 published-point networks with the real Horizon toolchain and keep hbdk-perf's
figures: ``python -m zoo_bench_rdk_x5.build_hbdk_perf --python ENV/bin/python [--only NAME]``.

For each network of ``published_points.json``: build it with random weights (timm, or the Keras
application), export an opset-11 ONNX (timm: ``torch.onnx.export``; Keras: tf2onnx), write the
hb_mapper project (the YAML of :mod:`.hb_config`, uniform random 0..255 calibration pixels,
seed 0) and run ``hb_mapper makertbin``. The makertbin log's hbdk-perf line (latency, FPS, DDR
bytes per BPU subgraph), its node placement and the compile time go into ``hbdk_perf.json``
beside this file, written after each network so an interrupted batch keeps what it finished.

hbdk-perf's static estimate depends on the compiled graph (operators, shapes, placement), not on
the weight values, so random weights give the same figure as trained ones for the same
architecture. Slow: minutes per network on two cores. Run once, commit the result.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import hb_config
from .hb_log import HbMapperLogError, parse_hb_mapper_log
from .toolchain import LAUNCH

HERE = Path(__file__).parent
POINTS = HERE / "published_points.json"
OUT = HERE / "hbdk_perf.json"
OPSET = 11
CALIBRATION_IMAGES = 8
IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)


def _export_timm(definition: dict[str, Any], onnx: Path) -> dict[str, Any]:
    import timm
    import torch
    from zoo_bench.estimate.build_workloads import _randomize_norm_scales

    torch.manual_seed(0)
    net = timm.create_model(definition["args"]["timm_name"], pretrained=False,
                            num_classes=int(definition.get("classes", 1000))).eval()
    if definition.get("reparameterize"):
        from timm.utils.model import reparameterize_model

        net = reparameterize_model(net)
    _randomize_norm_scales(net)
    net.eval()
    res = int(definition["resolution"])
    torch.onnx.export(net, (torch.zeros(1, 3, res, res),), str(onnx), opset_version=OPSET, dynamo=False,
                      input_names=["input"], output_names=["output"])
    cfg = getattr(net, "pretrained_cfg", {}) or {}
    mean = tuple(255.0 * m for m in cfg.get("mean", (0.485, 0.456, 0.406)))
    std = tuple(255.0 * s for s in cfg.get("std", (0.229, 0.224, 0.225)))
    return {"layout": "NCHW", "mean": mean, "std": std,
            "exporter": f"torch.onnx.export {torch.__version__} (TorchScript, opset {OPSET}); timm {timm.__version__}"}


def _export_keras(definition: dict[str, Any], onnx: Path) -> dict[str, Any]:
    from zoo_bench.estimate.reference_models import build_keras

    from .keras_onnx import keras_to_onnx

    net = build_keras(definition)
    exporter = keras_to_onnx(net, onnx, OPSET)
    # Keras applications (MobileNet): x / 127.5 - 1
    return {"layout": "NHWC", "mean": (127.5, 127.5, 127.5), "std": (127.5, 127.5, 127.5), "exporter": exporter}


def compile_one(name: str, definition: dict[str, Any], python: Path, workdir: Path, timeout: float) -> dict[str, Any]:
    """Export, write the project, run makertbin; the entry kept for this network."""
    import numpy as np

    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    onnx = workdir / f"{name}.onnx"
    t0 = time.monotonic()
    how = _export_keras(definition, onnx) if definition["builder"] == "keras_application" else \
        _export_timm(definition, onnx)
    export_s = time.monotonic() - t0
    res = int(definition["resolution"])
    settings = hb_config.MapperSettings(
        onnx_model=str(onnx), prefix=f"{name}_nv12", mean=how["mean"],  # type: ignore[arg-type]
        scale=tuple(1.0 / s for s in how["std"]),  # type: ignore[arg-type]
        working_dir=str(workdir / "model_output"), cal_data_dir=str(workdir / hb_config.CALIBRATION_DIR),
        layout=how["layout"])
    pixels = np.random.default_rng(0).uniform(0, 255, size=(CALIBRATION_IMAGES, 3, res, res)).astype("float32")
    hb_config.write_calibration(pixels, workdir / hb_config.CALIBRATION_DIR, layout=how["layout"])
    config = workdir / "config.yaml"
    config.write_text(hb_config.config_yaml(settings))
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(python.parent), env.get("PATH", "")])
    env.pop("PYTHONPATH", None)
    t1 = time.monotonic()
    proc = subprocess.run([str(python), "-c", LAUNCH, "makertbin", "--config", str(config), "--model-type", "onnx"],
                          cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout)
    compile_s = time.monotonic() - t1
    logs = sorted(workdir.glob("hb_mapper_makertbin*.log"))
    text = logs[-1].read_text(errors="replace") if logs else proc.stdout + proc.stderr
    entry: dict[str, Any] = {"export": how["exporter"], "layout": how["layout"], "export_s": round(export_s, 1),
                             "compile_s": round(compile_s, 1), "returncode": proc.returncode,
                             "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    try:
        report = parse_hb_mapper_log(text, require_similarity=True)
    except HbMapperLogError as exc:
        entry["error"] = f"{exc}; last lines: " + " | ".join(text.strip().splitlines()[-5:])
        return entry
    binary = workdir / "model_output" / f"{settings.prefix}.bin"
    entry.update({
        "versions": report.versions,
        "subgraphs": [{"latency_us": p.latency_us, "fps": p.fps, "ddr_bytes": p.ddr_bytes} for p in report.perf],
        "latency_ms": round(sum(p.latency_us for p in report.perf) / 1000.0, 4),
        "fps": report.perf[0].fps if len(report.perf) == 1 else None,
        "ddr_bytes": sum(p.ddr_bytes or 0 for p in report.perf),
        "nodes": len(report.nodes), "conv_nodes": report.conv_nodes,
        "cpu_nodes": [f"{n.name} ({n.type})" for n in report.cpu_nodes],
        "output_cosine": min((o.cosine for o in report.outputs if o.cosine is not None), default=None),
        "bin_bytes": binary.stat().st_size if binary.is_file() else None,
    })
    if proc.returncode != 0 or not report.perf:
        entry["error"] = "makertbin failed: " + " | ".join(text.strip().splitlines()[-5:])
    return entry


def _load() -> dict[str, Any]:
    if OUT.is_file():
        return json.loads(OUT.read_text())
    return {"about": ("hbdk-perf static estimates (single BPU core, march bayes-e, compile_mode latency, O3, NV12 "
                      "input) of the networks of published_points.json, from real `hb_mapper makertbin` runs on "
                      "this project's CI machine kind (2 cores, x86-64). Random weights: hbdk-perf depends on the "
                      "compiled graph, not on weight values."),
            "how": {"builder": "python -m zoo_bench_rdk_x5.build_hbdk_perf", "onnx_opset": OPSET,
                    "calibration": f"{CALIBRATION_IMAGES} images of uniform random pixels 0..255 (seed 0)",
                    "weights": "random (timm init with batch-norm scales in 0.5..1.5; Keras init)",
                    "config": "hb_config.py YAML: bayes-e, nv12, the network's mean/std, latency mode, O3"},
            "networks": {}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", required=True, type=Path, help="the toolchain's Python 3.10")
    parser.add_argument("--only", action="append", help="network name (repeatable)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/zoo-bench-hbdk-perf"))
    parser.add_argument("--redo", action="store_true", help="compile networks already in the file again")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--reread", action="store_true",
                        help="only re-read the makertbin logs kept in --workdir (new fields, no compile)")
    args = parser.parse_args(argv)
    models = json.loads(POINTS.read_text())["models"]
    data = _load()
    if args.reread:
        for name, entry in data["networks"].items():
            log = args.workdir / name / "hb_mapper_makertbin.log"
            if log.is_file() and "error" not in entry:
                entry["conv_nodes"] = parse_hb_mapper_log(log.read_text(errors="replace")).conv_nodes
        OUT.write_text(json.dumps(data, indent=1) + "\n")
        return 0
    for name, definition in models.items():
        if args.only and name not in args.only:
            continue
        if name in data["networks"] and not args.redo and "error" not in data["networks"][name]:
            continue
        print(f"[{time.strftime('%H:%M:%S')}] {name}", flush=True)
        try:
            entry = compile_one(name, definition, args.python, args.workdir / name, args.timeout)
        except Exception as exc:  # one network failing does not stop the batch
            entry = {"error": f"{type(exc).__name__}: {exc}"}
        data["networks"][name] = entry
        OUT.write_text(json.dumps(data, indent=1) + "\n")
        print(f"    {json.dumps({k: entry.get(k) for k in ('latency_ms', 'fps', 'compile_s', 'error')})}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

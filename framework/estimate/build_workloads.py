"""Build the cached workloads: ``python -m zoo_bench.estimate.build_workloads [--catalog] [--only NAME]``.

For every model defined in the vendor plugins' points files (and, with ``--catalog``, every
catalog model), build the float model, quantize it to int8 with the core's TFLite quantizer
code path, read its workload (:mod:`zoo_bench.estimate.workload`) and, where a points file
names a baseline compiler for a target (a tool whose estimate the fitted model corrects), run
that compiler on the int8 model through the plugin registry and keep its latency figure.
Results are merged into the ``workloads.json`` of the plugin that defines the model (the
workloads file its ``EstimatorData`` names; catalog models into the core's
``catalog_workloads.json``), a baseline tool's figure into the file of the plugin that owns its
target; one entry per model, written after each model so an interrupted build keeps what it
finished. ``zoo-bench fidelity`` and ``zoo-bench fit`` then run in seconds without TensorFlow.

Slow (TensorFlow conversions; ResNet50 ~30 s, EfficientNetV2-S minutes): run it once, commit
the result.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .data import WORKLOADS_FILE, load_points, load_workloads, registered_data
from .workload import workload_of_tflite

CALIBRATION_IMAGES = 8
#: The int8 models built here are kept (not committed) so that workloads can be re-read without
#: rebuilding: ``--reread`` uses them.
# Beside the artifact cache, not in it: the artifact cache holds only what it wrote itself.
MODEL_CACHE = Path.home() / ".cache" / "zoo-bench-estimate-models"


def _calibration(shape: tuple[int, ...], low: float, high: float) -> Any:
    import numpy as np

    return np.random.default_rng(0).uniform(low, high, size=(CALIBRATION_IMAGES, *shape[1:])).astype("float32")


def int8_from_definition(definition: dict[str, Any], workdir: Path) -> tuple[Path, str]:
    """Build and quantize one points-file model; returns the int8 .tflite and the converter."""
    from ..builtin.models.common import tensorflow_version
    from ..builtin.quantizers.tflite_int8 import TfliteInt8Quantizer, _import_torch_first

    in_type = definition.get("input_type", "int8")
    out_type = definition.get("output_type", "int8")
    low, high = definition.get("input_range", (-1.0, 1.0))
    if definition["builder"] == "timm":
        return _int8_from_timm(definition, workdir)
    _import_torch_first()
    from .reference_models import build_keras

    net = build_keras(definition)
    path = workdir / "float.keras"
    net.save(path)
    batch = _calibration(tuple(int(d) for d in net.inputs[0].shape), low, high)
    data = TfliteInt8Quantizer._from_keras(path, batch, in_type, out_type, True)
    out = workdir / "int8.tflite"
    out.write_bytes(data)
    return out, f"tf.lite.TFLiteConverter {tensorflow_version()}"


def _int8_from_timm(definition: dict[str, Any], workdir: Path) -> tuple[Path, str]:
    """timm model -> float .tflite (litert-torch) -> int8 (TFLite calibrator), as the quantizer does."""
    from ..builtin.models.common import dist_version, recalibrate_torch_bn, tensorflow_version
    from ..builtin.models.timm_source import export_tflite
    from ..builtin.quantizers.tflite_int8 import TfliteInt8Quantizer, _import_torch_first
    from ..components import ModelSpec, Preprocess

    _import_torch_first()
    import timm

    res = int(definition["resolution"])
    spec = ModelSpec(name="reference", source="timm", family="reference", resolution=res, native_format="torch",
                     classes=int(definition.get("classes", 1000)),
                     preprocess=Preprocess(resize=res, crop=res, layout="NCHW"))
    net = timm.create_model(definition["args"]["timm_name"], pretrained=False, num_classes=spec.classes).eval()
    if definition.get("reparameterize"):  # deploy form of re-parameterizable nets (RepVGG, MobileOne)
        from timm.utils.model import reparameterize_model

        net = reparameterize_model(net)
    _randomize_norm_scales(net)
    # a batch of 2: batch norm in training mode needs more than one value per channel (1x1 maps)
    recalibrate_torch_bn(net, (2, *spec.input_shape[1:]))
    float_path = export_tflite(net, spec, workdir)
    batch = _calibration(spec.input_shape, -1.0, 1.0)
    data = TfliteInt8Quantizer._calibrate(float_path.read_bytes(), batch, definition.get("input_type", "int8"),
                                          definition.get("output_type", "int8"), True)
    out = workdir / "int8.tflite"
    out.write_bytes(data)
    return out, f"TFLite calibrator {tensorflow_version()} after litert-torch {dist_version('litert-torch')}"


def _randomize_norm_scales(net: Any) -> None:
    """Give every batch norm a non-zero scale. timm zero-initialises the last norm of residual
    blocks (``zero_init_last``): with random weights the converter would then fold whole
    branches away and the workload would miss their layers."""
    import torch

    gen = torch.Generator().manual_seed(0)
    for m in net.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and m.weight is not None:
            with torch.no_grad():
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)


def int8_from_catalog(name: str, workdir: Path) -> tuple[Path, str]:
    """A catalog model through its own source and the tflite_int8 quantizer (uint8 in, float out)."""
    from ..components import StageContext
    from ..plugins import get_registry

    registry = get_registry()
    spec = registry.models()[name]
    source = registry.sources[spec.source]
    (workdir / "src").mkdir()
    (workdir / "q").mkdir()
    ctx = StageContext(spec, None, "source", {"weights": "random"}, {}, workdir / "src", registry)  # type: ignore[arg-type]
    native = source.build(spec, ctx).artifact
    quantizer = registry.component("quantize", "tflite_int8")
    qctx = StageContext(spec, None, "quantize:tflite_int8",  # type: ignore[arg-type]
                        {"calibration_images": CALIBRATION_IMAGES, "input_type": "int8", "output_type": "int8"},
                        {"source": native}, workdir / "q", registry)
    out = quantizer.quantize(qctx).artifact  # type: ignore[attr-defined]
    return out.path, out.meta.get("quantizer", "tflite_int8")


def baseline_figure(compiler_name: str, options: dict[str, Any], model: Path, workdir: Path) -> float | None:
    """Run a registered compiler on ``model`` and return its ``latency_mean_ms`` estimate."""
    from ..components import Artifact, ModelSpec, StageContext
    from ..plugins import get_registry

    registry = get_registry()
    compiler = registry.component("compile", compiler_name)
    spec = ModelSpec(name="reference", source="local_file", family="reference", resolution=0, native_format="tflite")
    out = workdir / f"baseline_{compiler_name}"
    out.mkdir()
    ctx = StageContext(spec, None, f"compile:{compiler_name}", dict(options),  # type: ignore[arg-type]
                       {"q": Artifact(model, "tflite", precision="int8")}, out, registry)
    result = compiler.compile(ctx)  # type: ignore[attr-defined]
    for fig in result.figures:
        if fig.metric == "latency_mean_ms":
            return float(fig.value)
    return None


def _save(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    tmp.replace(path)


class WorkloadFiles:
    """Where each entry is written: a model's workload to the file of the plugin defining it
    (catalog models: the core's), a target's baseline figure to the file of the plugin owning
    the target; or everything to one ``output`` file."""

    def __init__(self, model_file: dict[str, Path], target_file: dict[str, Path], output: Path | None):
        self.model_file, self.target_file, self.output = model_file, target_file, output

    def _route(self, name: str, entry: dict[str, Any]) -> dict[Path, dict[str, Any]]:
        if self.output is not None:
            return {self.output: entry}
        home = self.model_file.get(name, WORKLOADS_FILE)
        parts: dict[Path, dict[str, Any]] = {home: {**entry, "baselines": {}}}
        for target, figure in entry.get("baselines", {}).items():
            where = self.target_file.get(target, home)
            parts.setdefault(where, {"baselines": {}})["baselines"][target] = figure
        return parts

    def save(self, name: str, entry: dict[str, Any], generated_by: str) -> None:
        for path, part in self._route(name, entry).items():
            data = json.loads(path.read_text()) if path.exists() else {"models": {}}
            data["generated_by"] = generated_by
            old = data["models"].get(name, {})
            merged = {**old, **{k: v for k, v in part.items() if k != "baselines"}}
            merged["baselines"] = {**old.get("baselines", {}), **part.get("baselines", {})}
            data["models"][name] = merged
            _save(path, data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--catalog", action="store_true", help="also every catalog model (slow)")
    parser.add_argument("--only", action="append", default=[], help="model names to (re)build")
    parser.add_argument("--missing", action="store_true", help="build only models not in the file yet")
    parser.add_argument("--reread", action="store_true",
                        help=f"re-read workloads of the int8 models kept in {MODEL_CACHE} (no rebuild)")
    parser.add_argument("--output", type=Path, default=None,
                        help="write every entry to this one file (default: each plugin's own workloads file)")
    args = parser.parse_args(argv)

    registered = registered_data()
    files = [load_points(d.points) for d in registered]
    model_file: dict[str, Path] = {}
    target_file: dict[str, Path] = {}
    for d, pf in zip(registered, files, strict=True):
        if d.workloads is not None:
            for name in pf.models:
                model_file.setdefault(name, d.workloads)
            for target in pf.targets:
                target_file.setdefault(target, d.workloads)
    sink = WorkloadFiles(model_file, target_file, args.output)
    jobs: dict[str, dict[str, Any]] = {}
    baselines: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for pf in files:
        for name, definition in pf.models.items():
            if name in jobs and jobs[name] != definition:  # one cached workload per name
                print(f"{name}: defined differently in two points files; {pf.path} wins", file=sys.stderr)
            jobs[name] = definition
        for target, info in pf.targets.items():
            if info.get("baseline"):
                for p in pf.points:
                    if p["target"] == target:
                        baselines.setdefault(p["model"], []).append((target, info["baseline"]))
    every_baseline = [(t, info["baseline"]) for pf in files for t, info in pf.targets.items()
                      if info.get("baseline")]
    if args.catalog:
        from ..plugins import get_registry

        covered = {d["catalog"] for d in jobs.values() if d.get("catalog")}
        for name in get_registry().models():
            if name in covered:  # a points model is this catalog model (same network, same head)
                continue
            jobs.setdefault(name, {"builder": "catalog", "name": name})
            if jobs[name]["builder"] == "catalog":  # estimates for every target that corrects a tool
                baselines[name] = every_baseline
    paths = [args.output] if args.output is not None else sorted({WORKLOADS_FILE, *model_file.values(),
                                                                   *target_file.values()})
    data = {"models": load_workloads(paths)}
    generated_by = "python -m zoo_bench.estimate.build_workloads" + (" --catalog" if args.catalog else "")
    names = args.only or list(jobs)
    for name in names:
        if name not in jobs:
            print(f"unknown model {name}", file=sys.stderr)
            return 2
        if args.missing and name in data["models"]:
            continue
        definition = jobs[name]
        t0 = time.perf_counter()
        kept = MODEL_CACHE / f"{name}.tflite"
        if args.reread:  # workload and missing baselines of the kept int8 model, no rebuild
            entry = data["models"].get(name)
            if kept.exists() and entry is not None:
                entry["workload"] = workload_of_tflite(kept).as_dict()
                wanted = baselines.get(name, []) + (every_baseline if definition.get("catalog") else [])
                for target, baseline in wanted:
                    if target not in entry.setdefault("baselines", {}):
                        with tempfile.TemporaryDirectory(prefix="zoo-bench-workload-") as tmp:
                            value = baseline_figure(baseline["compiler"], baseline.get("options", {}), kept, Path(tmp))
                        entry["baselines"][target] = {"compiler": baseline["compiler"], "latency_mean_ms": value}
                sink.save(name, entry, generated_by)
            continue
        with tempfile.TemporaryDirectory(prefix="zoo-bench-workload-") as tmp:
            workdir = Path(tmp)
            try:
                if definition["builder"] == "catalog":
                    model, converter = int8_from_catalog(name, workdir)
                else:
                    model, converter = int8_from_definition(definition, workdir)
                MODEL_CACHE.mkdir(parents=True, exist_ok=True)
                kept.write_bytes(model.read_bytes())
                entry: dict[str, Any] = {"definition": definition, "converter": converter,
                                         "workload": workload_of_tflite(model).as_dict(), "baselines": {}}
                for target, baseline in baselines.get(name, []):
                    value = baseline_figure(baseline["compiler"], baseline.get("options", {}), model, workdir)
                    entry["baselines"][target] = {"compiler": baseline["compiler"], "latency_mean_ms": value}
            except Exception as exc:  # one model's failure must not lose the others
                print(f"{name}: FAILED {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
                continue
        data["models"][name] = entry
        sink.save(name, entry, generated_by)
        print(f"{name}: {entry['workload']['layers']} layers, {sum(entry['workload']['macs'].values()) / 1e6:.1f} M "
              f"work units, {time.perf_counter() - t0:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

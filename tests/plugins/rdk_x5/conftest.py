"""Fixtures of the RDK X5 plugin tests: a tiny NCHW ONNX classifier, its spec, a StageContext factory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from zoo_bench import Artifact, ModelSpec, Preprocess, StageContext
from zoo_bench.components import Component
from zoo_bench.testing import make_context
from zoo_bench_rdk_x5.targets import rdk_targets

DATA = Path(__file__).resolve().parent / "data"
TARGET = rdk_targets()[0]
#: timm's ImageNet normalisation, as the catalog's efficientnet_b2_224 has it
TINY_PRE = Preprocess(resize=18, crop=16, mean=(123.675, 116.28, 103.53), std=(58.395, 57.12, 57.375),
                      layout="NCHW", interpolation="bilinear")
TINY_SPEC = ModelSpec(name="tiny", source="local_file", family="tiny", resolution=16, native_format="onnx",
                      classes=4, preprocess=TINY_PRE)


@pytest.fixture(autouse=True)
def _no_installed_toolchain(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """zoo-bench's data folder of the tests is empty: a toolchain the developer installed is not used."""
    monkeypatch.setenv("ZOO_BENCH_DATA", str(tmp_path_factory.mktemp("zoo-bench-data")))


@pytest.fixture(scope="session")
def tiny_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A float ONNX model (1, 3, 16, 16) -> (1, 4): Conv 3x3, ReLU, global average pool, Gemm."""
    onnx = pytest.importorskip("onnx")
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    inits = [
        numpy_helper.from_array(rng.normal(0, 0.3, (8, 3, 3, 3)).astype(np.float32), "w"),
        numpy_helper.from_array(rng.normal(0, 0.1, (8,)).astype(np.float32), "b"),
        numpy_helper.from_array(rng.normal(0, 0.5, (8, 4)).astype(np.float32), "fc"),
        numpy_helper.from_array(np.zeros(4, np.float32), "fcb"),
    ]
    nodes = [
        helper.make_node("Conv", ["input", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("GlobalAveragePool", ["r"], ["p"]),
        helper.make_node("Flatten", ["p"], ["f"]),
        helper.make_node("Gemm", ["f", "fc", "fcb"], ["logits"]),
    ]
    inputs = [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 16, 16])]
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 4])]
    graph = helper.make_graph(nodes, "tiny", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path_factory.mktemp("tiny_onnx") / "tiny.onnx"
    onnx.save(model, str(path))
    return path


@pytest.fixture
def make_ctx(tmp_path: Path) -> Callable[..., StageContext]:
    """A StageContext of the tiny model on rdk_x5 with one input artifact."""

    def make(artifact: Artifact, *, options: dict[str, Any] | None = None, stage_id: str = "stage",
             spec: ModelSpec = TINY_SPEC, component: Component | None = None) -> StageContext:
        """With ``component``, options are typed and defaulted as the worker does."""
        workdir = tmp_path / "work" / stage_id.replace(":", "_")
        return make_context(spec, workdir, component=component, inputs={"upstream": artifact},
                            options=options, target=TARGET, stage_id=stage_id)

    return make

"""Weights and activation memory of a QDQ int8 ONNX model, for the STM32N6 open estimate.

TFLM reads only .tflite files, so for a QDQ ONNX model zoo-bench plans its activations itself,
the way TFLM's ``GreedyMemoryPlanner`` does (the algorithm, re-implemented here): buffers sorted
by size, largest first, each placed at the lowest offset where it overlaps no placed buffer that
is alive at the same time; the arena is the highest end.

What counts, as a compiler that fuses QuantizeLinear/DequantizeLinear pairs would see the graph:

- an activation is the int8/uint8 output of a QuantizeLinear (the graph input's one included);
  it lives from the operator that computes its float value to the last operator that reads its
  DequantizeLinear output;
- float tensors that no QuantizeLinear follows stay float and count at their own size;
- weights are the integer initializers that DequantizeLinear nodes read (int8 weights, int32
  biases) at their storage size; scales and zero points are left out (the N6 folds them into
  its configuration), and so are shape constants.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

_ITEMSIZE = {1: 4, 2: 1, 3: 1, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2}  # onnx TensorProto types


@dataclass
class Buffer:
    name: str
    size: int
    first: int
    last: int


def greedy_arena(buffers: list[Buffer]) -> int:
    """Bytes of the smallest arena the greedy-by-size placement finds for ``buffers``."""
    placed: list[tuple[int, Buffer]] = []
    high = 0
    for buf in sorted(buffers, key=lambda b: (-b.size, b.first)):
        live = sorted(((off, other) for off, other in placed if other.first <= buf.last and buf.first <= other.last),
                      key=lambda item: item[0])
        offset = 0
        for off, other in live:
            if offset + buf.size <= off:
                break
            offset = max(offset, off + other.size)
        placed.append((offset, buf))
        high = max(high, offset + buf.size)
    return high


def _numel(shape: Any) -> int | None:
    total = 1
    for dim in shape.dim:
        if not dim.HasField("dim_value") or dim.dim_value <= 0:
            return None
        total *= dim.dim_value
    return total


def onnx_footprint(path: Path) -> dict[str, Any]:
    """``{"weights_bytes", "activation_bytes", "buffers", "unknown_shapes"}`` of a QDQ ONNX model."""
    import onnx
    from onnx import numpy_helper, shape_inference

    model = shape_inference.infer_shapes(onnx.load(str(path)))
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    nodes = list(graph.node)
    types: dict[str, Any] = {}
    for vi in [*graph.input, *graph.value_info, *graph.output]:
        types[vi.name] = vi.type.tensor_type
    weights = 0
    counted: set[str] = set()
    for node in nodes:
        name = node.input[0] if node.input else ""
        if node.op_type == "DequantizeLinear" and name in inits and name not in counted:
            counted.add(name)
            weights += numpy_helper.to_array(inits[name]).nbytes
    producer = {out: i for i, n in enumerate(nodes) for out in n.output}
    consumers: dict[str, list[int]] = {}
    for i, node in enumerate(nodes):
        for name in node.input:
            consumers.setdefault(name, []).append(i)
    # DequantizeLinear outputs are views of their int8 input; QuantizeLinear inputs computed by an
    # operator and read by nothing else are fused into that operator.
    alias = {n.output[0]: n.input[0] for n in nodes if n.op_type == "DequantizeLinear" and n.input[0] not in inits}
    fused = {n.input[0] for n in nodes if n.op_type == "QuantizeLinear"
             and all(nodes[c].op_type == "QuantizeLinear" for c in consumers.get(n.input[0], []))}
    graph_inputs = [i.name for i in graph.input if i.name not in inits]
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    for name in graph_inputs:
        if name not in fused:  # a float input that is only quantized is the int8 input buffer
            first[name] = last[name] = -1
    for i, node in enumerate(nodes):
        if node.op_type == "DequantizeLinear":
            continue
        for out in node.output:
            if out in fused or out in inits:
                continue
            start = i
            if node.op_type == "QuantizeLinear" and node.input[0] in producer:
                start = producer[node.input[0]]  # the value is computed by the fused producer
            elif node.op_type == "QuantizeLinear" and node.input[0] in graph_inputs:
                start = -1
            first.setdefault(out, start)
            last.setdefault(out, i)
        for name in node.input:
            real = alias.get(name, name)
            if real in first:
                last[real] = max(last[real], i)
    end = len(nodes)
    for out in graph.output:
        real = alias.get(out.name, out.name)
        if real in first:
            last[real] = end
    buffers, unknown = [], []
    for name, start in first.items():
        tensor = types.get(name)
        numel = _numel(tensor.shape) if tensor is not None else None
        if numel is None:
            unknown.append(name)
            continue
        buffers.append(Buffer(name, numel * _ITEMSIZE.get(tensor.elem_type, 4), start, last[name]))
    return {"weights_bytes": weights, "activation_bytes": greedy_arena(buffers), "buffers": len(buffers),
            "unknown_shapes": unknown}

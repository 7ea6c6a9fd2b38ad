"""The workload of an int8 .tflite model, read from the model itself.

For every operator of the main subgraph: its class (standard conv, depthwise, pointwise, dense,
element-wise, pooling, other), its multiply-accumulates (or, for classes without MACs, the
elements it processes) and the bytes it moves (activations read and written plus constants read).
Memory: the bytes of constant tensors (what a compiler stores in flash) and the peak of the live
activation tensors under two planners (plain lifetimes, and lifetimes where an operator may write
its output over an input that dies with it).

LiteRT's interpreter (``ai_edge_litert``, < 0.1 s to import, no TensorFlow) reads the model; its
``_get_ops_details()`` lists operators with their tensor indices in execution order.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: Operator classes, in the order the estimators use them.
OP_CLASSES = ("conv", "depthwise", "pointwise", "dense", "elementwise", "pooling", "other")

_ELEMENTWISE = {
    "ADD", "SUB", "MUL", "DIV", "MAXIMUM", "MINIMUM", "RELU", "RELU6", "RELU_N1_TO_1", "LEAKY_RELU", "PRELU",
    "LOGISTIC", "TANH", "HARD_SWISH", "SQUARED_DIFFERENCE", "RSQRT", "SQRT", "ABS", "NEG", "EXP", "GELU",
    "SQUARE", "POW", "FLOOR", "LOG",
}
_POOLING = {"AVERAGE_POOL_2D", "MAX_POOL_2D", "MEAN", "SUM", "REDUCE_MAX", "L2_POOL_2D"}
#: Operators a runtime can run in place: the output has the input's size and may overwrite it.
_IN_PLACE = _ELEMENTWISE | {"DEPTHWISE_CONV_2D", "RESHAPE", "QUANTIZE", "DEQUANTIZE", "SQUEEZE", "EXPAND_DIMS",
                            "SOFTMAX"}


@dataclass
class Workload:
    """What one inference of a model costs, per operator class.

    ``macs[c]`` counts multiply-accumulates for the conv/dense classes and processed elements for
    the others; ``bytes[c]`` counts bytes read and written; ``ops[c]`` counts operators.
    ``weights_bytes`` sums constant tensors; ``peak_bytes`` and ``peak_inplace_bytes`` are the
    largest sums of live activations (see :func:`activation_peaks`); ``largest_tensor_bytes`` and
    ``io_bytes`` (model input + output) help the memory estimators.
    """

    macs: dict[str, float] = field(default_factory=dict)
    bytes: dict[str, float] = field(default_factory=dict)
    ops: dict[str, int] = field(default_factory=dict)
    layers: int = 0
    weights_bytes: int = 0
    peak_bytes: int = 0
    peak_inplace_bytes: int = 0
    largest_tensor_bytes: int = 0
    io_bytes: int = 0
    input_shape: list[int] = field(default_factory=list)
    #: The activation graph, for memory planners: ``steps`` = [[input ids], [output ids], op name,
    #: class] in execution order, ``sizes`` = tensor id -> bytes, graph ``inputs`` and ``outputs``.
    graph: dict[str, Any] = field(default_factory=dict)

    @property
    def total_macs(self) -> float:
        return sum(self.macs.get(c, 0.0) for c in ("conv", "depthwise", "pointwise", "dense"))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Workload:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


def _size(shape: Any, dtype: Any) -> int:
    import numpy as np

    n = 1
    for d in shape:
        n *= max(int(d), 1)
    return n * np.dtype(dtype).itemsize


def _prod(shape: Any) -> int:
    n = 1
    for d in shape:
        n *= max(int(d), 1)
    return n


def classify(op_name: str, weight_shape: tuple[int, ...] | None, out_shape: tuple[int, ...]) -> str:
    """The class of one operator from its name, weight shape and output shape."""
    if op_name == "CONV_2D" and weight_shape is not None:
        spatial = _prod(out_shape[1:-1]) if len(out_shape) == 4 else 1
        if weight_shape[1] == 1 and weight_shape[2] == 1:
            return "dense" if spatial == 1 else "pointwise"
        return "conv"
    if op_name == "DEPTHWISE_CONV_2D":
        return "depthwise"
    if op_name in ("FULLY_CONNECTED", "BATCH_MATMUL"):
        return "dense"
    if op_name in _ELEMENTWISE:
        return "elementwise"
    if op_name in _POOLING:
        return "pooling"
    return "other"


def op_macs(op_class: str, op_name: str, weight_shape: tuple[int, ...] | None, in_shapes: list[tuple[int, ...]],
            out_shape: tuple[int, ...]) -> float:
    """MACs of a conv/dense operator; elements processed by the others."""
    out_elems = _prod(out_shape)
    if op_class in ("conv", "pointwise") or (op_class == "dense" and op_name == "CONV_2D"):
        assert weight_shape is not None
        return float(out_elems * _prod(weight_shape[1:]))  # [O, kh, kw, I]: kh*kw*I per output
    if op_class == "depthwise":
        assert weight_shape is not None
        return float(out_elems * weight_shape[1] * weight_shape[2])
    if op_class == "dense":
        if op_name == "FULLY_CONNECTED" and weight_shape is not None:
            return float(out_elems * weight_shape[-1])
        inner = in_shapes[0][-1] if in_shapes else 1
        return float(out_elems * inner)
    if op_class == "pooling":
        return float(max((_prod(s) for s in in_shapes[:1]), default=out_elems))
    return float(out_elems)


def activation_peaks(steps: list[tuple[list[int], list[int], str]], sizes: dict[int, int],
                     graph_inputs: list[int], graph_outputs: list[int]) -> tuple[int, int]:
    """Peak live activation bytes, without and with in-place outputs.

    ``steps`` are (activation inputs, outputs, op name) in execution order. A tensor lives from
    the step that writes it (graph inputs: from the start) to the last step that reads it (graph
    outputs: to the end). With in-place, an operator of :data:`_IN_PLACE` writes its output over
    an input of at least the same size that is not read later, so that output adds nothing.
    """
    n = len(steps)
    first: dict[int, int] = {t: 0 for t in graph_inputs}
    last: dict[int, int] = {}
    for i, (ins, outs, _) in enumerate(steps):
        for t in outs:
            first.setdefault(t, i)
            last.setdefault(t, i)
        for t in ins:
            last[t] = max(last.get(t, i), i)
    for t in graph_outputs:
        last[t] = n - 1
    shared: set[int] = set()
    for i, (ins, outs, name) in enumerate(steps):
        if name in _IN_PLACE and len(outs) == 1:
            for t in ins:
                if last.get(t) == i and sizes.get(t, 0) >= sizes.get(outs[0], 0) and t not in graph_inputs:
                    shared.add(outs[0])
                    break
    peak = peak_inplace = 0
    for i in range(n):
        live = [t for t in first if first[t] <= i <= last.get(t, first[t])]
        total = sum(sizes.get(t, 0) for t in live)
        # An output written in place over an input that dies at this step costs nothing extra.
        total_inplace = total - sum(sizes.get(t, 0) for t in live if t in shared and first[t] == i)
        peak = max(peak, total)
        peak_inplace = max(peak_inplace, total_inplace)
    return peak, peak_inplace


def workload_of_tflite(path: Path) -> Workload:
    """Read ``path`` (an int8 .tflite) with LiteRT's interpreter and count its workload."""
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=str(path))
    tensors = {t["index"]: t for t in interp.get_tensor_details()}
    ops = interp._get_ops_details()  # execution order of the main subgraph
    produced = {int(o) for op in ops for o in op["outputs"] if o >= 0}
    graph_inputs = [d["index"] for d in interp.get_input_details()]
    graph_outputs = [d["index"] for d in interp.get_output_details()]
    constant = {i for op in ops for i in op["inputs"] if i >= 0 and i not in produced and i not in graph_inputs}
    sizes = {i: _size(t["shape"], t["dtype"]) for i, t in tensors.items()}
    w = Workload(macs={c: 0.0 for c in OP_CLASSES}, bytes={c: 0.0 for c in OP_CLASSES},
                 ops={c: 0 for c in OP_CLASSES})
    steps: list[tuple[list[int], list[int], str]] = []
    for op in ops:
        name = op["op_name"]
        ins = [int(i) for i in op["inputs"] if i >= 0]
        outs = [int(o) for o in op["outputs"] if o >= 0]
        act_in = [i for i in ins if i not in constant]
        const_in = [i for i in ins if i in constant]
        weight = next((tuple(int(d) for d in tensors[i]["shape"]) for i in const_in
                       if len(tensors[i]["shape"]) >= 2), None)
        out_shape = tuple(int(d) for d in tensors[outs[0]]["shape"]) if outs else ()
        cls = classify(name, weight, out_shape)
        in_shapes = [tuple(int(d) for d in tensors[i]["shape"]) for i in act_in]
        w.macs[cls] += op_macs(cls, name, weight, in_shapes, out_shape)
        w.bytes[cls] += float(sum(sizes[i] for i in ins) + sum(sizes[o] for o in outs))
        w.ops[cls] += 1
        steps.append((act_in, outs, name))
        w.graph.setdefault("steps", []).append([act_in, outs, name, cls])
    w.layers = len(ops)
    w.weights_bytes = int(sum(sizes[i] for i in constant))
    w.peak_bytes, w.peak_inplace_bytes = activation_peaks(steps, sizes, graph_inputs, graph_outputs)
    activations = set(graph_inputs) | produced
    w.largest_tensor_bytes = max((sizes[t] for t in activations), default=0)
    w.io_bytes = sum(sizes[t] for t in graph_inputs + graph_outputs)
    w.input_shape = [int(d) for d in tensors[graph_inputs[0]]["shape"]] if graph_inputs else []
    used = {t for step in steps for t in step[0] + step[1]} | set(graph_inputs) | set(graph_outputs)
    w.graph.update(sizes={str(t): sizes[t] for t in sorted(used)}, inputs=graph_inputs, outputs=graph_outputs)
    return w


def lifetimes(graph: dict[str, Any]) -> dict[int, tuple[int, int]]:
    """Tensor id -> (first step, last step) of the activation graph of a :class:`Workload`."""
    steps = graph.get("steps", [])
    n = len(steps)
    first: dict[int, int] = {int(t): 0 for t in graph.get("inputs", [])}
    last: dict[int, int] = {}
    for i, (ins, outs, *_rest) in enumerate(steps):
        for t in outs:
            first.setdefault(int(t), i)
            last.setdefault(int(t), i)
        for t in ins:
            last[int(t)] = max(last.get(int(t), i), i)
    for t in graph.get("outputs", []):
        last[int(t)] = n - 1
    return {t: (first[t], last.get(t, first[t])) for t in first}



Buffers = tuple[dict[int, int], dict[int, tuple[int, int]]]


def buffers(graph: dict[str, Any], in_place: bool = False, concat_in_place: bool = False,
            keep_inputs: bool = False, input_in_place: bool = False) -> Buffers:
    """Activation buffers (size, lifetime) after aliasing tensors that can share memory.

    ``in_place``: an operator of :data:`_IN_PLACE` (element-wise, depthwise, reshape, quantize)
    writes its output over an input that is read last by it and is at least as large.
    ``concat_in_place``: the producers of a CONCATENATION write straight into its output (the
    inputs are slices of it), as runtimes that plan concatenations away do.
    ``keep_inputs``: the model's input buffer is never reused (it lives for the whole inference).
    ``input_in_place``: the first operator may also write over the model's input.
    """
    sizes = {int(t): int(b) for t, b in graph.get("sizes", {}).items()}
    life = lifetimes(graph)
    if keep_inputs:
        end = max(len(graph.get("steps", [])) - 1, 0)
        life.update({int(t): (0, end) for t in graph.get("inputs", [])})
    parent = {t: t for t in life}

    def root(t: int) -> int:
        while parent[t] != t:
            parent[t] = parent[parent[t]]
            t = parent[t]
        return t

    graph_inputs = {int(t) for t in graph.get("inputs", [])} if not input_in_place or keep_inputs else set()
    readers: dict[int, int] = {}
    for ins, _outs, *_ in graph.get("steps", []):
        for t in ins:
            readers[int(t)] = readers.get(int(t), 0) + 1
    for i, (ins, outs, name, *_) in enumerate(graph.get("steps", [])):
        if len(outs) != 1:
            continue
        out = int(outs[0])
        if concat_in_place and name == "CONCATENATION":
            if all(readers.get(int(t), 0) == 1 and int(t) not in graph_inputs for t in ins):
                for t in ins:
                    parent[root(int(t))] = root(out)
        elif in_place and name in _IN_PLACE:
            for t in ins:
                t = int(t)
                if life[t][1] == i and t not in graph_inputs and sizes.get(t, 0) >= sizes.get(out, 0):
                    parent[root(out)] = root(t)
                    break
    size: dict[int, int] = {}
    span: dict[int, tuple[int, int]] = {}
    for t, (first, last) in life.items():
        r = root(t)
        size[r] = max(size.get(r, 0), sizes.get(t, 0)) if not concat_in_place else size.get(r, 0)
        f0, l0 = span.get(r, (first, last))
        span[r] = (min(f0, first), max(l0, last))
    if concat_in_place:  # a concatenation's buffer is its output's size; others their largest member
        for t in life:
            r = root(t)
            size[r] = max(size[r], sizes.get(t, 0))
    return size, span


def greedy_arena(graph: dict[str, Any], align: int = 16, **aliasing: bool) -> int:
    """Bytes of an arena planned greedily by size (largest buffer first, lowest free offset),
    the way TensorFlow Lite Micro's GreedyMemoryPlanner places activations; ``0`` without a graph.
    With ``in_place``/``concat_in_place`` the buffers are first aliased (see :func:`buffers`)."""
    sizes, life = buffers(graph, **aliasing)
    order = sorted(life, key=lambda t: (-sizes.get(t, 0), life[t][0]))
    placed: list[tuple[int, int, int, int]] = []  # offset, size, first, last
    top = 0
    for t in order:
        size = -(-sizes.get(t, 0) // align) * align
        if size == 0:
            continue
        first, last = life[t]
        clashes = sorted((o, s) for o, s, f, lt in placed if not (lt < first or f > last))
        offset = 0
        for o, s in clashes:
            if offset + size <= o:
                break
            offset = max(offset, o + s)
        placed.append((offset, size, first, last))
        top = max(top, offset + size)
    return top


def live_peak(graph: dict[str, Any], **aliasing: bool) -> int:
    """Largest sum of live buffers at one step (a lower bound of any arena); ``aliasing`` as
    :func:`buffers` takes it."""
    sizes, life = buffers(graph, **aliasing)
    n = len(graph.get("steps", []))
    return max((sum(sizes[b] for b, (f, lt) in life.items() if f <= i <= lt) for i in range(n)), default=0)


#: Operators that read their input in order and may write their output over what they have read.
_STREAMING = _IN_PLACE | {"CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D", "QUANTIZE", "PAD"}


def overlap_peak(graph: dict[str, Any]) -> int:
    """Peak activation bytes when a streaming operator (conv, depthwise, pooling, element-wise,
    quantize) writes its output over its input as it consumes it: such a step needs
    max(input, output) for the pair instead of their sum, plus every other live tensor. A lower
    bound of what a runtime that overlaps buffers needs (ST's planner is fitted as a multiple)."""
    sizes = {int(t): int(b) for t, b in graph.get("sizes", {}).items()}
    life = lifetimes(graph)
    peak = 0
    for i, (ins, outs, name, *_) in enumerate(graph.get("steps", [])):
        ins = [int(t) for t in ins]
        outs = [int(t) for t in outs]
        live = [t for t, (f, lt) in life.items() if f <= i <= lt]
        others = sum(sizes.get(t, 0) for t in live if t not in ins and t not in outs)
        dying = [t for t in ins if life[t][1] == i]
        pair = sum(sizes.get(t, 0) for t in ins) + sum(sizes.get(t, 0) for t in outs)
        if name in _STREAMING and len(outs) == 1 and dying:
            main = max(dying, key=lambda t: sizes.get(t, 0))
            rest = pair - sizes.get(main, 0) - sizes.get(outs[0], 0)
            pair = rest + max(sizes.get(main, 0), sizes.get(outs[0], 0))
        peak = max(peak, others + pair)
    return peak

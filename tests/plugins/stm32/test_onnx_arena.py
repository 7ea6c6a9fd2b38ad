"""The N6 open estimate of QDQ ONNX models: greedy arena planning and weight bytes.

The QDQ graph is built here with onnx.helper in the layout ONNX Runtime's quantize_static writes
(QuantizeLinear/DequantizeLinear around each operator, weights and biases as integer initializers
read through DequantizeLinear).
"""

from __future__ import annotations

import numpy as np
import pytest
from zoo_bench_stm32.onnx_arena import Buffer, greedy_arena, onnx_footprint

onnx = pytest.importorskip("onnx")


def test_greedy_reuses_memory_of_dead_buffers():
    # a (100 B) dies before c (100 B) is born: they share offset 0, b sits above a
    bufs = [Buffer("a", 100, 0, 1), Buffer("b", 50, 1, 2), Buffer("c", 100, 2, 3)]
    assert greedy_arena(bufs) == 150
    # all alive together: the sum
    assert greedy_arena([Buffer("a", 100, 0, 3), Buffer("b", 50, 0, 3), Buffer("c", 100, 0, 3)]) == 250
    # the gap a dead buffer leaves between two live ones takes a smaller buffer
    assert greedy_arena([Buffer("a", 64, 0, 5), Buffer("gone", 64, 0, 0), Buffer("c", 64, 0, 5),
                         Buffer("small", 32, 2, 3)]) == 192


def qdq_conv_relu(path):
    from onnx import TensorProto, helper, numpy_helper

    init = [
        numpy_helper.from_array(np.float32(0.02), "s"), numpy_helper.from_array(np.int8(0), "z"),
        numpy_helper.from_array(np.ones((4, 3, 3, 3), np.int8), "w_q"),
        numpy_helper.from_array(np.full(4, 0.01, np.float32), "w_s"),
        numpy_helper.from_array(np.zeros(4, np.int8), "w_z"),
        numpy_helper.from_array(np.zeros(4, np.int32), "b_q"),
        numpy_helper.from_array(np.full(4, 0.0002, np.float32), "b_s"),
        numpy_helper.from_array(np.zeros(4, np.int32), "b_z"),
    ]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s", "z"], ["x_q"]),
        helper.make_node("DequantizeLinear", ["x_q", "s", "z"], ["x_dq"]),
        helper.make_node("DequantizeLinear", ["w_q", "w_s", "w_z"], ["w"], axis=0),
        helper.make_node("DequantizeLinear", ["b_q", "b_s", "b_z"], ["b"], axis=0),
        helper.make_node("Conv", ["x_dq", "w", "b"], ["c"]),
        helper.make_node("QuantizeLinear", ["c", "s", "z"], ["c_q"]),
        helper.make_node("DequantizeLinear", ["c_q", "s", "z"], ["c_dq"]),
        helper.make_node("Relu", ["c_dq"], ["r"]),
        helper.make_node("QuantizeLinear", ["r", "s", "z"], ["r_q"]),
        helper.make_node("DequantizeLinear", ["r_q", "s", "z"], ["y"]),
    ]
    graph = helper.make_graph(nodes, "qdq", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 6, 6])], init)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))


def test_qdq_model_footprint(tmp_path):
    path = tmp_path / "qdq.onnx"
    qdq_conv_relu(path)
    found = onnx_footprint(path)
    assert found["weights_bytes"] == 4 * 3 * 3 * 3 + 4 * 4  # int8 weights + int32 biases, no scales
    assert found["unknown_shapes"] == []
    # int8 input (192 B) until the conv; conv output (144 B) until the relu; relu output (144 B) to the end:
    # the input's memory is free again when the relu writes
    assert found["activation_bytes"] == 192 + 144
    assert found["buffers"] == 3

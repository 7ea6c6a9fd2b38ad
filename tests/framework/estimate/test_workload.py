"""Workload of an int8 .tflite read with LiteRT: MACs per operator class, bytes, memory."""

from __future__ import annotations

import pytest
from zoo_bench.estimate.workload import activation_peaks, classify, workload_of_tflite


def test_classes_follow_kernel_and_output_shapes():
    assert classify("CONV_2D", (8, 3, 3, 3), (1, 32, 32, 8)) == "conv"
    assert classify("CONV_2D", (16, 1, 1, 8), (1, 32, 32, 16)) == "pointwise"
    assert classify("CONV_2D", (10, 1, 1, 16), (1, 1, 1, 10)) == "dense"  # a 1x1 conv on a 1x1 map
    assert classify("DEPTHWISE_CONV_2D", (1, 3, 3, 8), (1, 32, 32, 8)) == "depthwise"
    assert classify("FULLY_CONNECTED", (10, 16), (1, 10)) == "dense"
    assert classify("ADD", None, (1, 8, 8, 4)) == "elementwise"
    assert classify("MEAN", None, (1, 1, 1, 4)) == "pooling"
    assert classify("RESHAPE", None, (1, 4)) == "other"


def test_peaks_count_live_tensors_and_in_place_outputs():
    # t0 (input, 100 B) -> conv -> t1 (50) -> relu (in place) -> t2 (50) -> conv -> t3 (10)
    steps = [([0], [1], "CONV_2D"), ([1], [2], "RELU"), ([2], [3], "CONV_2D")]
    sizes = {0: 100, 1: 50, 2: 50, 3: 10}
    peak, peak_inplace = activation_peaks(steps, sizes, graph_inputs=[0], graph_outputs=[3])
    assert peak == 100 + 50  # input alive until its last reader, plus the conv's output
    assert peak_inplace == 150  # the RELU's output overwrites its input: never more than that
    steps = [([0], [1], "CONV_2D"), ([1], [2], "CONV_2D"), ([2], [3], "CONV_2D")]
    assert activation_peaks(steps, sizes, [0], [3])[0] == 150


def test_tiny_model_workload_matches_its_layers(tiny_int8):
    pytest.importorskip("ai_edge_litert")
    w = workload_of_tflite(tiny_int8)
    # Conv 3x3 3->8 at 32x32, depthwise 3x3 on 8 channels, 1x1 8->16, dense 16->10 (tiny_models.py).
    assert w.macs["conv"] == 32 * 32 * 8 * 3 * 3 * 3
    assert w.macs["depthwise"] == 32 * 32 * 8 * 3 * 3
    assert w.macs["pointwise"] == 32 * 32 * 16 * 8
    assert w.macs["dense"] == 16 * 10
    assert w.ops["pooling"] == 1
    # int8 weights + int32 biases of the three convs, the dense weights (the converter drops its
    # all-zero bias) and the MEAN's two int32 axes: every constant byte, nothing else
    weights = (8 * 27 + 8 * 4) + (9 * 8 + 8 * 4) + (16 * 8 + 16 * 4) + 10 * 16 + 2 * 4
    assert w.weights_bytes == weights
    # the largest activation is the 32x32x16 pointwise output; the peak holds it with its input
    assert w.largest_tensor_bytes == 32 * 32 * 16
    assert w.peak_bytes >= 32 * 32 * (16 + 8)
    assert w.peak_inplace_bytes <= w.peak_bytes
    assert w.input_shape == [1, 32, 32, 3]

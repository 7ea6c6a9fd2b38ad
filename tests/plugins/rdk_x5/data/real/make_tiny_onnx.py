"""The tiny ONNX models of the real hb_mapper logs here (README.md): Conv + ReLU + GAP + Gemm."""

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def tiny(opset, dynamic=False, size=32):
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.normal(0, 0.3, (8, 3, 3, 3)).astype(np.float32), "w"),
             numpy_helper.from_array(rng.normal(0, 0.1, (8,)).astype(np.float32), "b"),
             numpy_helper.from_array(rng.normal(0, 0.5, (4, 8)).astype(np.float32), "fc"),
             numpy_helper.from_array(np.zeros(4, np.float32), "fcb")]
    nodes = [helper.make_node("Conv", ["input", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("GlobalAveragePool", ["r"], ["p"]),
             helper.make_node("Flatten", ["p"], ["f"]),
             helper.make_node("Gemm", ["f", "fc", "fcb"], ["logits"], transB=1)]
    shape = ["N", 3, size, size] if dynamic else [1, 3, size, size]
    graph = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info("input", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [shape[0], 4])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 7
    return model


if __name__ == "__main__":
    onnx.save(tiny(11), "tiny11.onnx")
    onnx.save(tiny(17), "tiny17.onnx")
    onnx.save(tiny(11, dynamic=True), "tinydyn.onnx")

"""The ``stm32mp_board`` runner against the loopback OpenSSH server (tests/fixtures/sshd.py): this
machine plays an STM32MP board whose benchmark programs are fakes, labelled as such, that print:

- ``benchmark_model``: the log format of TensorFlow's ``benchmark_model`` (the same documented
  lines as tests/framework/board/test_tflite_report.py, from
  ``tensorflow/lite/tools/benchmark/benchmark_model.cc`` and ``benchmark_tflite_model.cc``),
  here with X-LINUX-AI's VX delegate;
- ``x-linux-ai-benchmark``: a PrettyTable with the column names found in the strings of ST's
  binary (meta-st-x-linux-ai @ 6813080f1bb326793950c5a3ae02a3fd59a94f28, X-LINUX-AI 6.1.1;
  ST documents no output format). The numbers in both are test data.
"""

from __future__ import annotations

import json

import pytest
from zoo_bench_stm32.mpu_runner import MpuBenchmarkFailed, Stm32MpBoardRunner, parse_xlinuxai_table

FAKE_BENCHMARK_MODEL = '''#!{python}
"""FAKE benchmark_model for tests: checks its arguments, prints TFLite's documented log format."""
import json, os, sys
args = dict(a.lstrip("-").split("=", 1) for a in sys.argv[1:])
assert os.path.getsize(args["graph"]) > 0, "the model was not pushed"
open({log!r}, "a").write(json.dumps(args) + "\\n")
delegate = "external_delegate_path" in args
print("INFO: STARTING!")
print("INFO: Num threads: [%s]" % args["num_threads"])
print("INFO: Graph: [%s]" % args["graph"])
if delegate:
    print("INFO: EXTERNAL delegate created.")
    print("INFO: Explicitly applied EXTERNAL delegate, and the model graph will be completely executed "
          "by the delegate.")
print("INFO: The input model file size (MB): 1.87")
print("INFO: Initialized session in 12.5ms.")
print("INFO: Running benchmark for at least 5 iterations and at least 0.5 seconds "
      "but terminate if exceeding 150 seconds.")
print("INFO: count=5 first=160000 curr=141000 min=140500 max=160000 avg=144800 std=7600")
print("")
print("INFO: Running benchmark for at least 50 iterations and at least 1 seconds "
      "but terminate if exceeding 150 seconds.")
print("INFO: count=50 first=142100 curr=141900 min=140800 max=143900 avg=141920 std=610 "
      "p5=141000 median=141850 p95=143100")
print("")
print("INFO: Inference timings in us: Init: 12500, First inference: 160000, Warmup (avg): 144800, "
      "Inference (avg): 141920")
'''

FAKE_XLA_BENCHMARK = '''#!{python}
"""FAKE x-linux-ai-benchmark for tests: a PrettyTable with the binary's column names."""
import sys
args = sys.argv[1:]
model = args[args.index("--model_path") + 1].rsplit("/", 1)[-1]
print("+----------------------+---------------------+---------------+")
print("|      Model Name      | Inference Time (ms) | Peak RAM (MB) |")
print("+----------------------+---------------------+---------------+")
print("| %-20s |        47.57        |     12.43     |" % model)
print("+----------------------+---------------------+---------------+")
'''


@pytest.fixture
def mp_boards(sshd, tmp_path, board_python):
    """boards.toml: an stm32mp1 and an stm32mp2 on the loopback server with fake benchmark tools."""
    fake = tmp_path / "fake_benchmark_model"
    fake.write_text(FAKE_BENCHMARK_MODEL.format(python=board_python, log=str(tmp_path / "bm_calls.jsonl")))
    fake.chmod(0o755)
    xla = tmp_path / "fake_x_linux_ai_benchmark"
    xla.write_text(FAKE_XLA_BENCHMARK.format(python=board_python))
    xla.chmod(0o755)
    common = {"bsp": "X-LINUX-AI loopback test", "workdir": str(tmp_path / "board-workdir"), "retries": 1,
              "benchmark_model": str(fake)}
    path = tmp_path / "boards.toml"
    tables = [sshd.board_table("mp1", "stm32mp1", **common), sshd.board_table("mp2", "stm32mp2", **common)]
    path.write_text("\n".join(tables))
    return path, xla


def by_metric(figures):
    return {f.metric: f for f in figures}


def test_benchmark_model_on_the_mp2_npu(mp_boards, make_ctx, tiny_models, tmp_path):
    boards, _ = mp_boards
    opts = {"boards": str(boards), "delegate": "vx", "threads": 2, "runs": 50, "warmup": 5,
            "mpu_benchmark": "benchmark_model"}
    out = Stm32MpBoardRunner().run(make_ctx(tiny_models["tiny_int8_float_out"], target="stm32mp2", options=opts))
    figs = by_metric(out.figures)
    assert figs["latency_mean_ms"].value == pytest.approx(141.92)
    assert figs["latency_p50_ms"].value == pytest.approx(141.85)
    assert figs["latency_mean_ms"].method == "measured-board" and figs["latency_mean_ms"].tool == "benchmark_model"
    extra = figs["latency_mean_ms"].extra
    assert (extra["board"], extra["delegate"], extra["delegation"]) == ("mp2", "vx", "complete")
    assert extra["delegate_library"] == "/usr/lib/libvx_delegate.so.2"
    call = json.loads((tmp_path / "bm_calls.jsonl").read_text().splitlines()[-1])
    assert call["external_delegate_path"] == "/usr/lib/libvx_delegate.so.2" and call["num_threads"] == "2"
    assert list((tmp_path / "board-workdir").iterdir()) == []  # cleaned up on the board


def test_x_linux_ai_benchmark_when_the_board_has_it(mp_boards, make_ctx, tiny_models):
    boards, xla = mp_boards
    opts = {"boards": str(boards), "delegate": "none", "threads": 2, "xlinuxai_benchmark": str(xla)}
    out = Stm32MpBoardRunner().run(make_ctx(tiny_models["tiny_int8_float_out"], target="stm32mp1", options=opts))
    (fig,) = out.figures
    assert (fig.metric, fig.value, fig.method, fig.tool) == ("latency_mean_ms", 47.57, "measured-board",
                                                              "x-linux-ai-benchmark")
    assert fig.extra["peak_ram_mb"] == 12.43 and fig.extra["board"] == "mp1"


def test_auto_falls_back_to_benchmark_model(mp_boards, make_ctx, tiny_models, tmp_path):
    boards, _ = mp_boards
    opts = {"boards": str(boards), "delegate": "none", "xlinuxai_benchmark": str(tmp_path / "not-installed")}
    out = Stm32MpBoardRunner().run(make_ctx(tiny_models["tiny_int8_float_out"], target="stm32mp1", options=opts))
    assert by_metric(out.figures)["latency_mean_ms"].tool == "benchmark_model"


def test_output_without_a_table_fails_clearly(mp_boards, make_ctx, tiny_models, tmp_path):
    boards, _ = mp_boards
    opts = {"boards": str(boards), "delegate": "none", "mpu_benchmark": "x-linux-ai-benchmark",
            "xlinuxai_benchmark": "true"}  # a board program that prints nothing
    with pytest.raises(MpuBenchmarkFailed, match="no table with an 'Inference Time"):
        Stm32MpBoardRunner().run(make_ctx(tiny_models["tiny_int8_float_out"], target="stm32mp1", options=opts))


def test_no_board_skips(tmp_path):
    from .conftest import TARGETS

    reason = Stm32MpBoardRunner().unavailable_reason(TARGETS["stm32mp1"], {"boards": str(tmp_path / "none.toml")})
    assert reason.startswith("no board for target stm32mp1")


def test_table_parser_needs_the_header():
    with pytest.raises(ValueError):
        parse_xlinuxai_table("| a | b |\n| 1 | 2 |\n")

"""Parsing benchmark_model logs and the Python benchmark's report.

The samples follow the format of TensorFlow's own sources (the numbers are test data):
- ``tensorflow/lite/tools/benchmark/benchmark_model.cc``: ``BenchmarkModel::Run`` logs
  "Running benchmark for at least N iterations and at least S seconds but terminate if exceeding
  M seconds." before the warm-up and the timed runs; ``BenchmarkLoggingListener::OnBenchmarkEnd``
  logs "Inference timings in us: Init: .., First inference: .., Warmup (avg): .., Inference (avg): .."
  and "Memory footprint delta from the start of the tool (MB): init=.. overall=..";
- ``Stat::OutputToStream`` (``tensorflow/core/util/stats_calculator.h``): "count=N first=F curr=C
  min=m max=M avg=a std=s"; "count=N curr=C(all same)"; older releases "curr=C count=N min=..";
  ``StatWithPercentiles`` (``xla/tsl/util/stats_calculator.h``) appends " p5=.. median=.. p95=..";
- ``tensorflow/lite/tools/benchmark/benchmark_tflite_model.cc``: "Explicitly applied EXTERNAL
  delegate, and the model graph will be completely executed by the delegate." and the partial form
  "... partially executed by the delegate w/ N delegate kernels.";
- the TFLite benchmark README (``tensorflow/lite/tools/benchmark/README.md``) shows the line
  "Inference timings in us: Init: 5685, First inference: 18535, Warmup (avg): 14462.3, Inference (avg): 14575.2".
"""

from __future__ import annotations

import json

import pytest
from zoo_bench.board.tflite_report import REPORT_PREFIX, parse_benchmark_model, parse_python_report, parse_stat_line

NPU_LOG = """\
INFO: STARTING!
INFO: Log parameter values verbosely: [0]
INFO: Num threads: [2]
INFO: Graph: [/tmp/zoo-bench/run.abc/model_vela.tflite]
INFO: External delegate path: [/usr/lib/libethosu_delegate.so]
INFO: Loaded model /tmp/zoo-bench/run.abc/model_vela.tflite
INFO: EXTERNAL delegate created.
INFO: Explicitly applied EXTERNAL delegate, and the model graph will be completely executed by the delegate.
INFO: The input model file size (MB): 4.87
INFO: Initialized session in 21.432ms.
INFO: Running benchmark for at least 5 iterations and at least 0.5 seconds but terminate if exceeding 150 seconds.
INFO: count=129 first=9020 curr=3930 min=3890 max=9020 avg=3973.2 std=446 p5=3900 median=3931 p95=4012

INFO: Running benchmark for at least 50 iterations and at least 1 seconds but terminate if exceeding 150 seconds.
INFO: count=253 first=3941 curr=3922 min=3880 max=4410 avg=3950.5 std=61 p5=3891 median=3935 p95=4030

INFO: Inference timings in us: Init: 21432, First inference: 9020, Warmup (avg): 3973.2, Inference (avg): 3950.5
INFO: Note: as the benchmark tool itself affects memory footprint, the following is only APPROXIMATE to the \
actual memory footprint of the model at runtime. Take the information at your discretion.
INFO: Memory footprint delta from the start of the tool (MB): init=6.125 overall=7.5
"""

OLD_CPU_LOG = """\
STARTING!
Num runs: [50]
Num threads: [4]
Graph: [mobilenet_v1_1.0_224_quant.tflite]
Loaded model mobilenet_v1_1.0_224_quant.tflite
The input model file size (MB): 4.27635
Initialized session in 5.388ms.
Running benchmark for at least 1 iterations and at least 0.5 seconds but terminate if exceeding 150 seconds.
curr=101726 count=6 min=88231 max=101726 avg=92755.2 std=4699

Running benchmark for at least 50 iterations and at least 1 seconds but terminate if exceeding 150 seconds.
curr=90102 count=50 min=89012 max=95120 avg=90865.9 std=1201

Inference timings in us: Init: 5388, First inference: 101726, Warmup (avg): 92755.2, Inference (avg): 90865.9
"""


def test_npu_log_with_percentiles_and_delegate():
    r = parse_benchmark_model(NPU_LOG)
    assert (r.init_us, r.first_inference_us, r.warmup_avg_us, r.inference_avg_us) == (21432, 9020, 3973.2, 3950.5)
    assert r.timed.count == 253 and r.timed.median_us == 3935 and r.timed.p95_us == 4030
    assert r.timed.min_us == 3880 and r.timed.std_us == 61
    assert r.warmup.count == 129 and r.warmup.first_us == 9020
    assert (r.warmup.min_runs, r.warmup.min_secs, r.timed.min_runs, r.timed.min_secs) == (5, 0.5, 50, 1.0)
    # "completely executed" prints no kernel count: none is assumed
    assert (r.delegate, r.delegation, r.delegate_kernels) == ("EXTERNAL", "complete", None)
    assert (r.model_size_mb, r.memory_init_mb, r.memory_overall_mb) == (4.87, 6.125, 7.5)
    assert r.notes == []


def test_old_log_without_percentiles_or_delegate():
    r = parse_benchmark_model(OLD_CPU_LOG)
    assert r.inference_avg_us == 90865.9 and r.init_us == 5388
    assert r.timed.count == 50 and r.timed.median_us is None and r.timed.max_us == 95120
    assert r.warmup.count == 6
    assert r.delegation is None


def test_partial_delegation_is_reported():
    log = NPU_LOG.replace("will be completely executed by the delegate.",
                          "will be partially executed by the delegate w/ 3 delegate kernels.")
    r = parse_benchmark_model(log)
    assert (r.delegation, r.delegate_kernels) == ("partial", 3)


def test_delegate_not_applied_records_no_kernel_count():
    log = NPU_LOG.replace("Explicitly applied EXTERNAL delegate, and the model graph will be completely executed "
                          "by the delegate.", "Though EXTERNAL delegate is explicitly applied, the model graph will "
                          "not be executed by the delegate.")
    r = parse_benchmark_model(log)
    assert (r.delegate, r.delegation, r.delegate_kernels) == ("EXTERNAL", "none", None)


# With --warmup_runs=0 --warmup_min_secs=0 benchmark_model's warm-up loop runs no iteration:
# Stat::OutputToStream prints "count=0", and the summary's First inference / Warmup (avg) are the
# empty Stat's first() and avg() (0 for an int64 Stat) - see benchmark_model.cc and
# stats_calculator.h cited in the module docstring. The numbers below are test data.
NO_WARMUP_LOG = """\
INFO: Running benchmark for at least 0 iterations and at least 0 seconds but terminate if exceeding \
150 seconds.
INFO: count=0

INFO: Running benchmark for at least 20 iterations and at least 1 seconds but terminate if exceeding \
150 seconds.
INFO: count=212 first=5210 curr=4702 min=4650 max=5210 avg=4712.5 std=40

INFO: Inference timings in us: Init: 15011, First inference: 0, Warmup (avg): 0, Inference (avg): 4712.5
"""


def test_no_warmup_is_a_warmup_of_count_zero():
    r = parse_benchmark_model(NO_WARMUP_LOG)
    assert r.warmup.count == 0 and (r.warmup.min_runs, r.warmup.min_secs) == (0, 0.0)
    assert r.timed.count == 212 and r.timed.avg_us == 4712.5
    assert parse_stat_line("INFO: count=0").count == 0


def test_no_timed_run_is_an_error():
    log = NO_WARMUP_LOG.replace("count=212 first=5210 curr=4702 min=4650 max=5210 avg=4712.5 std=40", "count=0")
    with pytest.raises(ValueError, match="no timed run"):
        parse_benchmark_model(log.replace("Inference (avg): 4712.5", "Inference (avg): 0"))


def test_all_same_stat_line():
    s = parse_stat_line("INFO: count=5 curr=1200(all same)")
    assert (s.count, s.avg_us, s.min_us, s.max_us, s.std_us) == (5, 1200, 1200, 1200, 0.0)
    assert parse_stat_line("INFO: Num threads: [4]") is None


def test_failed_benchmark_raises_with_the_tool_error():
    log = ("INFO: Loaded model m.tflite\n"
           "ERROR: Failed to load delegate from /usr/lib/libethosu_delegate.so\n"
           "Benchmarking failed.\n")
    with pytest.raises(ValueError, match="no 'Inference timings in us' line: Benchmarking failed"):
        parse_benchmark_model(log)


def test_python_report_takes_the_last_report_line():
    text = "noise\n" + REPORT_PREFIX + json.dumps({"samples_ms": [1.0, 2.0], "init_ms": 3.0}) + "\n"
    assert parse_python_report(text)["samples_ms"] == [1.0, 2.0]
    with pytest.raises(ValueError, match="no report line"):
        parse_python_report("Traceback: ...")
    with pytest.raises(ValueError, match="no timed runs"):
        parse_python_report(REPORT_PREFIX + '{"samples_ms": []}')

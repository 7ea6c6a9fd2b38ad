"""Benchmark a .tflite model with the Python runtime a board ships; copied to the board and run
there as a script (``python3 litert_bench.py --model m.tflite ...``).

It imports nothing of zoo-bench and only what a BSP's Python has: ``tflite_runtime`` (NXP's and
ST's Yocto images), else ``ai_edge_litert``, else ``tensorflow.lite``; and numpy. It sets the
inputs once, then times ``invoke()`` alone with ``time.perf_counter`` after exactly ``--warmup``
untimed runs (0: none, and the first timed run is the first inference), optionally through an
external delegate (``--delegate /usr/lib/libethosu_delegate.so``), and prints one line::

    ZOO_BENCH_REPORT {"runtime": ..., "init_ms": ..., "first_inference_ms": ..., "samples_ms": [...]}
"""

import argparse
import json
import os
import platform
import sys
import time

REPORT_PREFIX = "ZOO_BENCH_REPORT "


def load_runtime():
    """(Interpreter class, load_delegate, runtime name, runtime version) of the first runtime found."""
    try:
        import tflite_runtime
        from tflite_runtime.interpreter import Interpreter, load_delegate

        return Interpreter, load_delegate, "tflite_runtime", getattr(tflite_runtime, "__version__", "unknown")
    except ImportError:
        pass
    try:
        import ai_edge_litert
        from ai_edge_litert.interpreter import Interpreter, load_delegate

        return Interpreter, load_delegate, "ai_edge_litert", getattr(ai_edge_litert, "__version__", "unknown")
    except ImportError:
        pass
    import tensorflow as tf

    return tf.lite.Interpreter, tf.lite.experimental.load_delegate, "tensorflow", tf.__version__


def random_input(np, detail, rng):
    """Fixed pseudo-random values in the input's dtype range."""
    dtype = np.dtype(detail["dtype"])
    shape = tuple(int(d) for d in detail["shape"])
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)
    return rng.uniform(-1.0, 1.0, size=shape).astype(dtype)


def parse_delegate_options(items):
    options = {}
    for item in items or []:
        key, _, value = item.partition("=")
        options[key] = value
    return options


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--delegate", default="", help="external delegate library to load")
    parser.add_argument("--delegate-option", action="append", help="key=value passed to the delegate")
    args = parser.parse_args(argv)

    import numpy as np

    interpreter_cls, load_delegate, runtime, version = load_runtime()
    t0 = time.perf_counter()
    delegates = []
    if args.delegate:
        try:
            delegates.append(load_delegate(args.delegate, parse_delegate_options(args.delegate_option)))
        except (OSError, ValueError, RuntimeError) as exc:
            sys.stderr.write(f"cannot load delegate {args.delegate}: {exc}\n")
            sys.stderr.flush()
            os._exit(3)  # skip interpreter teardown: a half-made Delegate prints noise when collected
    interp = interpreter_cls(model_path=args.model, num_threads=args.threads, experimental_delegates=delegates)
    interp.allocate_tensors()
    init_ms = (time.perf_counter() - t0) * 1000.0

    rng = np.random.default_rng(0)
    for detail in interp.get_input_details():
        interp.set_tensor(detail["index"], random_input(np, detail, rng))

    warmup_ms = []
    for _ in range(max(0, args.warmup)):
        t = time.perf_counter()
        interp.invoke()
        warmup_ms.append((time.perf_counter() - t) * 1000.0)
    samples_ms = []
    for _ in range(args.runs):
        t = time.perf_counter()
        interp.invoke()
        samples_ms.append((time.perf_counter() - t) * 1000.0)

    report = {
        "runtime": runtime,
        "runtime_version": version,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "threads": args.threads,
        "delegate": args.delegate or None,
        "init_ms": init_ms,
        "first_inference_ms": (warmup_ms or samples_ms or [None])[0],
        "warmup_ms": warmup_ms,
        "samples_ms": samples_ms,
    }
    sys.stdout.write(REPORT_PREFIX + json.dumps(report) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

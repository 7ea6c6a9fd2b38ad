"""A stand-in for hrt_model_exec, run on the loopback "board" by tests/plugins/rdk_x5/test_board_runner.py.

NOT the real tool (that runs only on an RDK X5): it takes the real tool's arguments (``model_info`` /
``perf --model_file F --thread_num N --frame_count C``), times reading the model file C times, and prints
its result in the format of hrt_model_exec's output as published in D-Robotics' rdk_model_zoo notebooks
(samples/vision/classification/MobileNetV1/test_MobileNetV1.ipynb).
"""

import argparse
import hashlib
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["perf", "model_info"])
    parser.add_argument("--model_file", required=True)
    parser.add_argument("--thread_num", type=int, default=1)
    parser.add_argument("--frame_count", type=int, default=200)
    args = parser.parse_args()
    try:
        data = open(args.model_file, "rb").read()
    except OSError as exc:
        print(f"[E][DNN] load model failed: {exc}", file=sys.stderr)
        return 1
    print("[BPU_PLAT]BPU Platform Version(1.3.6)!")
    print("[DNN] Runtime version = 0.0.0_(loopback stand-in)")
    if args.command == "model_info":
        print(f"model file {args.model_file}: {len(data)} bytes")
        return 0
    t0 = time.perf_counter()
    samples = []
    for _ in range(args.frame_count):
        s = time.perf_counter()
        hashlib.sha256(data).digest()
        samples.append((time.perf_counter() - s) * 1000.0)
    wall = (time.perf_counter() - t0) * 1000.0
    avg = sum(samples) / len(samples)
    fps = args.frame_count / (wall / 1000.0)
    print(f"Frame count: {args.frame_count},  Thread Average: {avg:.6f} ms,  thread max latency: {max(samples):.6f} ms,"
          f"  thread min latency: {min(samples):.6f} ms,  FPS: {fps:.6f}")
    print("\nRunning condition:")
    print(f"  Thread number is: {args.thread_num}")
    print(f"  Frame count   is: {args.frame_count}")
    print(f"  Program run time: {wall:.6f} ms")
    print("Perf result:")
    print(f"  Frame totally latency is: {sum(samples):.6f} ms")
    print(f"  Average    latency    is: {avg:.6f} ms")
    print(f"  Frame      rate       is: {fps:.6f} FPS")
    return 0


if __name__ == "__main__":
    sys.exit(main())

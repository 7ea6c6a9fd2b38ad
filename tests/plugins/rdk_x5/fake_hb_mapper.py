"""A stand-in for the Horizon toolchain's ``hb_mapper`` CLI, used by test_hb_mapper.py to drive the
compile stage's subprocess handling. NOT the real tool (CPython 3.10 only, see docs/rdk_x5.md): it checks
that the files the config names exist, then replays the cited public logs in data/ the way hb_mapper
writes them (``hb_mapper_<command><time>.log`` in the working directory) and writes ``<prefix>.bin``.
"""

import re
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


def main(argv: list[str]) -> int:
    command = argv[0]
    if command == "checker":
        model = Path(argv[argv.index("--model") + 1])
        if not model.is_file() or argv[argv.index("--march") + 1] != "bayes-e":
            print("ERROR: bad model or march", file=sys.stderr)
            return 1
        Path("hb_mapper_checker_20260101_000000.log").write_text((DATA / "hb_mapper_checker_repvgg.log").read_text())
        return 0
    config = Path(argv[argv.index("--config") + 1]).read_text()
    values = dict(re.findall(r"^\s+(\w+): '?([^'\n]*)'?$", config, flags=re.MULTILINE))
    cal = Path(values["cal_data_dir"])
    if not Path(values["onnx_model"]).is_file() or not cal.is_dir() or not any(cal.iterdir()):
        print("ERROR: onnx model or calibration data missing", file=sys.stderr)
        return 1
    out = Path(values["working_dir"])
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{values['output_model_file_prefix']}.bin").write_bytes(b"HBM-stand-in" * 100)
    log = (DATA / "hb_mapper_makertbin_yolo11n_cls.log").read_text()
    Path("hb_mapper_makertbin_20260101_000000.log").write_text(log)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

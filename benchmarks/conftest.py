import os
import sys
from pathlib import Path

FAKES = Path(__file__).resolve().parents[1] / "tests" / "framework" / "fakes"
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(FAKES))
sys.path.insert(0, str(BENCH))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(FAKES), str(BENCH), os.environ.get("PYTHONPATH", "")]))
# scale_plugin: the extra fake targets of test_scale.py (stage processes load it too)
os.environ["ZOO_BENCH_PLUGINS"] = "zb_fake_plugin,scale_plugin"

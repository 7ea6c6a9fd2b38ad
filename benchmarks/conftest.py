import os
import sys
from pathlib import Path

FAKES = Path(__file__).resolve().parents[1] / "tests" / "framework" / "fakes"
sys.path.insert(0, str(FAKES))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(FAKES), os.environ.get("PYTHONPATH", "")]))
os.environ["ZOO_BENCH_PLUGINS"] = "zb_fake_plugin"

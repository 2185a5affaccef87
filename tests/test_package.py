"""The project as a package: a non-editable install (the wheel ``pip install .`` builds) imports,
finds the shipped model and demo clip it carries, and runs, from outside the repository."""
from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

CHECK = """
import json, sys
from pathlib import Path
import cv2
import handpose_live
from handpose_live import HandPoseEstimator
from handpose_live.assets import ASSETS_DIR
from handpose_live.sources import demo_clip_path
est = HandPoseEstimator.from_pretrained(device="cpu", precision="fp32")
ok, frame = cv2.VideoCapture(str(demo_clip_path())).read()
hands = est.process([frame])[0]
print(json.dumps({"module": handpose_live.__file__, "assets": str(ASSETS_DIR), "model": est.model_name,
                  "frame": list(frame.shape), "hands": len(hands)}))
"""


@pytest.mark.slow
def test_wheel_installs_and_loads_the_shipped_model_outside_the_repository(tmp_path):
    dist = tmp_path / "dist"
    # no build isolation: the venv's setuptools (a torch dependency) builds it, offline
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", str(REPO),
                    "-w", str(dist)], check=True, cwd=tmp_path)
    (wheel,) = dist.glob("handpose_live-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "handpose_live/_assets/models/default/config.json" in names
    assert "handpose_live/_assets/demo/demo.mp4" in names
    assert not any(n.startswith(("training/", "tests/", "scripts/")) for n in names)
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "handpose-live = handpose_live.__main__:main" in entry_points

    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
                   check=True, cwd=tmp_path)
    env = {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", CHECK], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert Path(got["module"]).is_relative_to(site)
    assert Path(got["assets"]) == site / "handpose_live" / "_assets"
    assert got["model"] == json.loads((REPO / "assets/models/default/config.json").read_text())["name"]
    assert got["frame"][2] == 3 and got["hands"] >= 1  # the demo clip opens on a hand
    helped = subprocess.run([sys.executable, "-m", "handpose_live", "--help"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert helped.returncode == 0 and "--headless" in helped.stdout, helped.stderr

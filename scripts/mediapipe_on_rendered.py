"""MediaPipe Hands on the rendered evaluation set, scored exactly as ``training.evaluate`` scores
our pipeline's ``full`` mode: the peer's figures beside issue 11's rendered 2D target and issue
13's rendered 3D targets.

    python scripts/mediapipe_on_rendered.py --split val --n 200 --out runs/eval/mediapipe_rval200

The same rendered images as ``python -m training.evaluate --data render`` (same split, ``--n``,
``--image-size`` and dataset seed), each through ``mp.solutions.hands.Hands(static_image_mode=True,
max_num_hands=2, model_complexity=1)`` in MediaPipe's own venv (``.venv-mediapipe/``, made on
first use by ``benchmark_vs_mediapipe.py``'s helper; mediapipe pins numpy<2, so it never enters
the project's env), driven by ``scripts/mediapipe_worker.py``.

How MediaPipe's answer is turned into what ``training.evaluate.summarise`` reads:
- its 21 image landmarks (pixels; MediaPipe's order is our user order) are the hand's 2D keypoints;
- the hand's crop window, which decides whether a reported hand is on the label
  (``evaluate.on_label``), is the window our pipeline cuts around those keypoints
  (``crop.keypoint_box``, the box training and video mode make from keypoints);
- its world landmarks (metres, axes of the image, origin near the hand's centre) are the 3D
  keypoints; the protocol roots them at the wrist and scales them to the label's middle MCP->PIP
  bone, as for ours. They are not turned for perspective: a hand off the image centre is seen
  along a slanted ray, which this leaves as rotation error (at 320 px renders the slant is small);
- its handedness label assumes a mirrored selfie image, so it is swapped (the renders are not
  mirrored), as ``training/data/real_hands.py`` does for the photos' labels.

There is no ``gt_crop`` mode for the peer: MediaPipe finds its own hands.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from tqdm import tqdm

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchmark_vs_mediapipe import MediaPipeWorker, mediapipe_python  # noqa: E402

from handpose_live.crop import box_corners, keypoint_box  # noqa: E402
from handpose_live.skeleton import user_to_rhd  # noqa: E402
from training.data_mix import open_dataset  # noqa: E402
from training.evaluate import FULL_ROWS, _match, add_full_rows, summarise  # noqa: E402

SIDE_OF_MIRRORED = {"Left": "right", "Right": "left"}  # MediaPipe's label for a mirrored image, swapped


def peer_hands(detail: list[dict]) -> list[SimpleNamespace]:
    """MediaPipe's hands (the worker's ``detail``) as the fields ``evaluate`` reads of ours."""
    hands = []
    for d in detail:
        kp = np.asarray(d["kp"], np.float32)[:, :2]
        hands.append(SimpleNamespace(keypoints_2d=kp, keypoints_3d=np.asarray(d["world"], np.float32),
                                     crop_box=tuple(float(v) for v in box_corners(keypoint_box(user_to_rhd(kp)))[0]),
                                     side=SIDE_OF_MIRRORED[d["handedness_mirrored"]], score=float(d["score"])))
    return hands


def collect_peer(worker: MediaPipeWorker, dataset, n: int) -> dict:
    """Per-sample rows of ``evaluate.collect`` for the ``full`` mode, MediaPipe's hands matched to
    each label by ``evaluate._match``."""
    rows = {k: [] for k in FULL_ROWS}
    for i in tqdm(range(min(n, len(dataset))), desc="mediapipe", dynamic_ncols=True):
        s = dataset[i]
        frame = np.ascontiguousarray(s["image_rgb"][:, :, ::-1])
        hands = peer_hands(worker.process(frame, landmarks=True)["detail"])
        add_full_rows(rows, s, _match(hands, s["keypoints_2d"].astype(np.float32)))
    return {k: np.array(v) for k, v in rows.items()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", default="val", choices=("val", "dev"))
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--image-size", type=int, default=320)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    try:
        python = mediapipe_python()
    except Exception as e:  # noqa: BLE001 - pip or venv failure: one line, not a traceback
        print(f"mediapipe_on_rendered: could not make MediaPipe's venv: {e}", file=sys.stderr)
        return 2
    dataset = open_dataset("render", split=args.split, image_size=args.image_size, seed=12345)
    worker = MediaPipeWorker(python, cv2_threads=-1)
    try:
        info = worker.call({"cmd": "info"})
        worker.call({"cmd": "open", "static_image_mode": True, "max_num_hands": 2, "model_complexity": 1})
        summary = summarise(collect_peer(worker, dataset, args.n), modes=("full",))
    except (RuntimeError, FileNotFoundError, ValueError) as e:  # the worker died; no hand mesh to render
        print(f"mediapipe_on_rendered: {e}", file=sys.stderr)
        return 2
    finally:
        worker.close()
    summary.update({"model": f"MediaPipe Hands {info['mediapipe']} (static, complexity 1, max 2 hands)",
                    "data": "render", "split": args.split, "image_size": args.image_size})
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "metrics.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps({k: v for k, v in summary["full"].items() if not k.startswith("pck")}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

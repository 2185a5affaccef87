"""MediaPipe Hands side of ``benchmark_vs_mediapipe.py``: runs in its own venv (mediapipe pins
numpy<2, so it never goes into the project's env) and is driven over pipes.

Protocol: the parent writes one JSON line per command to stdin, ``process`` followed by the raw
``h*w*3`` BGR uint8 bytes of the frame; the worker answers one JSON line per command on its
stdout (everything else this process or MediaPipe prints goes to stderr).

    {"cmd": "info"}                                   -> versions, cv2 threads, thread count
    {"cmd": "open", "static_image_mode": b, "max_num_hands": n, "model_complexity": c}
    {"cmd": "process", "h": 480, "w": 640} + bytes    -> {"ms", "cpu_ms", "hands"}
        with "landmarks": true also "detail": per hand {"kp": 21 x [x px, y px, z],
        "world": 21 x [x, y, z] metres, "handedness_mirrored": "Left"|"Right", "score"}
    {"cmd": "close"} / {"cmd": "quit"}

Only ``cv2.cvtColor(BGR->RGB)`` + ``Hands.process`` is timed (``ms``: wall clock; ``cpu_ms``:
CPU time of this whole process, all its threads), never the pipe transfer.
"""
from __future__ import annotations

import json
import os
import sys
import time


def _threads() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Threads:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def _detail(result, w: int, h: int) -> list[dict]:
    """Each hand MediaPipe found: image landmarks in pixels (z as MediaPipe gives it), world
    landmarks in metres, its handedness label (which assumes a mirrored selfie image) and score."""
    hands = []
    for lm, world, side in zip(result.multi_hand_landmarks or [], result.multi_hand_world_landmarks or [],
                               result.multi_handedness or []):
        hands.append({"kp": [[p.x * w, p.y * h, p.z] for p in lm.landmark],
                      "world": [[p.x, p.y, p.z] for p in world.landmark],
                      "handedness_mirrored": side.classification[0].label,
                      "score": float(side.classification[0].score)})
    return hands


def main() -> int:
    # Keep the protocol channel clean: the answers go to a copy of the original stdout, and fd 1
    # (where C++ code or a stray print would write) now points at stderr.
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    cv2_threads = int(os.environ.get("BENCH_CV2_THREADS", "-1"))

    import cv2
    import mediapipe as mp
    import numpy as np

    if cv2_threads >= 0:
        cv2.setNumThreads(cv2_threads)
    inp = sys.stdin.buffer
    hands = None

    def reply(obj: dict) -> None:
        out.write(json.dumps(obj) + "\n")

    while True:
        line = inp.readline()
        if not line:
            break
        msg = json.loads(line)
        cmd = msg["cmd"]
        if cmd == "info":
            reply({"mediapipe": mp.__version__, "numpy": np.__version__, "cv2": cv2.__version__,
                   "cv2_threads": cv2.getNumThreads(), "os_threads": _threads(),
                   "cpu_count": os.cpu_count()})
        elif cmd == "open":
            if hands is not None:
                hands.close()
            hands = mp.solutions.hands.Hands(
                static_image_mode=bool(msg["static_image_mode"]), max_num_hands=int(msg["max_num_hands"]),
                model_complexity=int(msg["model_complexity"]))
            reply({"ok": True, "os_threads": _threads()})
        elif cmd == "process":
            h, w = int(msg["h"]), int(msg["w"])
            buf = inp.read(h * w * 3)
            frame = np.frombuffer(buf, np.uint8).reshape(h, w, 3)
            c0, t0 = time.process_time(), time.perf_counter()
            result = hands.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
            t1, c1 = time.perf_counter(), time.process_time()
            found = result.multi_hand_landmarks
            answer = {"ms": (t1 - t0) * 1000, "cpu_ms": (c1 - c0) * 1000, "hands": len(found) if found else 0,
                      "os_threads": _threads()}
            if msg.get("landmarks"):
                answer["detail"] = _detail(result, w, h)
            reply(answer)
        elif cmd == "close":
            if hands is not None:
                hands.close()
                hands = None
            reply({"ok": True})
        elif cmd == "quit":
            reply({"ok": True})
            break
        else:
            reply({"error": f"unknown command {cmd!r}"})
    if hands is not None:
        hands.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

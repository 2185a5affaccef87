"""One Euro filter and per-track hand smoothing."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from handpose_live.smoothing import HandSmoother, OneEuroFilter
from test_runtime_fake_estimator import fake_hand


def test_constant_signal_is_unchanged():
    f = OneEuroFilter(min_cutoff=1.0, beta=0.1)
    for i in range(10):
        out = f(np.full((21, 2), 5.0), i / 30)
    assert np.allclose(out, 5.0)


def test_first_sample_passes_and_step_converges():
    f = OneEuroFilter(min_cutoff=1.0, beta=0.0)
    assert f(np.array([0.0]), 0.0)[0] == 0.0
    values = [f(np.array([10.0]), (i + 1) / 30)[0] for i in range(90)]
    assert 0 < values[0] < 10 and values[0] < values[5] < values[-1]
    assert values[-1] == pytest.approx(10.0, abs=0.05)


def test_noise_is_reduced():
    rng = np.random.default_rng(0)
    noisy = 100 + rng.normal(0, 2.0, (120, 21, 2))
    f = OneEuroFilter(min_cutoff=1.0, beta=0.0)
    out = np.array([f(x, i / 30) for i, x in enumerate(noisy)])
    assert out[30:].std() < 0.5 * noisy[30:].std()


def test_beta_reduces_lag_on_fast_motion():
    t = np.arange(60) / 30
    ramp = 300.0 * t  # 300 px/s
    lag = {}
    for beta in (0.0, 0.05):
        f = OneEuroFilter(min_cutoff=1.0, beta=beta)
        out = np.array([f(np.array([x]), ti)[0] for x, ti in zip(ramp, t)])
        lag[beta] = ramp[-1] - out[-1]
    assert lag[0.05] < 0.5 * lag[0.0]


def test_bad_parameters_and_repeated_timestamps():
    with pytest.raises(ValueError):
        OneEuroFilter(min_cutoff=0)
    f = OneEuroFilter()
    f(np.zeros(3), 1.0)
    assert np.isfinite(f(np.ones(3), 1.0)).all()  # dt = 0 does not divide by zero


def test_hand_smoother_is_per_track_and_does_not_modify_input():
    smoother = HandSmoother()
    a, b = fake_hand(0, track_id=1), fake_hand(0, track_id=2)
    smoother([a, b], 0.0)
    moved = dataclasses.replace(a, keypoints_2d=a.keypoints_2d + 50)
    before = moved.keypoints_2d.copy()
    out = smoother([moved, b], 1 / 30)
    assert np.array_equal(moved.keypoints_2d, before)
    assert 0 < (out[0].keypoints_2d - a.keypoints_2d).mean() < 50  # smoothed towards the past
    assert np.allclose(out[1].keypoints_2d, b.keypoints_2d)  # the other track is independent
    assert out[0].keypoints_3d.dtype == np.float32


def test_hand_smoother_forgets_lost_tracks_and_skips_untracked():
    smoother = HandSmoother()
    a = fake_hand(0, track_id=3)
    smoother([a], 0.0)
    far = dataclasses.replace(a, keypoints_2d=a.keypoints_2d + 80)
    out = smoother([far], 5.0)  # gone for 5 s: a new start, no smoothing towards the old pose
    assert np.allclose(out[0].keypoints_2d, far.keypoints_2d)
    untracked = dataclasses.replace(a, track_id=-1)
    assert smoother([untracked], 5.1)[0] is untracked

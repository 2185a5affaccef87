"""Replay timing without Qt: recorded times, speed, gaps, seeking, the end."""
from __future__ import annotations

import pytest

from handpose_live.gui.playback import MAX_GAP_S, Playback


def test_frames_follow_recorded_times_and_speed():
    times = [0.0, 0.1, 0.2, 0.5, 0.6]  # a 0.3 s gap (dropped camera frames)
    p = Playback(len(times), fps=30, frame_time_s=lambda k: times[k])
    p.play(now_s=100.0)
    assert p.advance(100.05) == 0 and p.advance(100.1) == 1
    assert p.advance(100.45) == 2  # waits out the gap
    assert p.advance(100.5) == 3
    p.set_speed(4.0)
    assert p.advance(100.525) == 4 and not p.playing  # 0.1 s of media in 25 ms; stops at the end


def test_unknown_times_step_at_fps_and_long_gaps_are_shortened():
    p = Playback(4, fps=10, frame_time_s=lambda k: None)
    assert p.frame_step_s(0) == pytest.approx(0.1)
    q = Playback(3, fps=10, frame_time_s=lambda k: [0.0, 60.0, 60.1][k])  # recording was paused
    assert q.frame_step_s(0) == MAX_GAP_S
    assert Playback(2, fps=10, frame_time_s=lambda k: [1.0, 0.5][k]).frame_step_s(0) == 0.1


def test_seek_clamps_and_play_at_end_restarts():
    p = Playback(10, fps=10, frame_time_s=lambda k: k / 10)
    assert p.seek(25) == 9 and p.seek(-3) == 0
    p.seek(9)
    p.play(0.0)
    assert p.position == 0 and p.playing
    p.pause()
    assert p.advance(5.0) == 0  # paused: time does not move the position
    with pytest.raises(ValueError, match="speed"):
        p.set_speed(0)
    empty = Playback(0, fps=10, frame_time_s=lambda k: None)
    empty.play(0.0)
    assert not empty.playing and empty.advance(1.0) == 0

"""How straight a labelled hand's fingers are: the measure behind the ``real_curled`` source."""
import numpy as np
import pytest

from training.data.real_hands import CURLED_BELOW, finger_straightness


def _hand(finger: np.ndarray) -> np.ndarray:
    """21 points in the user order with the same 4-point chain for the four long fingers, each
    moved sideways so that the fingers do not coincide; the thumb and wrist elsewhere."""
    pts = np.zeros((21, 3))
    pts[1:5] = [[-1, -1, 0], [-2, -1, 0], [-3, -1, 0], [-4, -1, 0]]
    for k, base in enumerate((5, 9, 13, 17)):
        pts[base:base + 4] = finger + [0, 0, 0.5 * k]
    return pts


def test_straight_fingers_score_one():
    straight = np.array([[0, 0, 0], [1, 0, 0], [2, 0, 0], [3.5, 0, 0]])
    assert finger_straightness(_hand(straight)) == pytest.approx(1.0)


def test_fingers_bent_twice_at_right_angles_score_a_third():
    # MCP -> PIP along x, a right angle at PIP, another at DIP: the tip ends 1 from the MCP, chain 3
    curled = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]])
    value = finger_straightness(_hand(curled))
    assert value == pytest.approx(1 / 3)
    assert value < CURLED_BELOW


def test_the_mean_over_fingers_and_scale_invariance():
    straight = np.array([[0, 0, 0], [1, 0, 0], [2, 0, 0], [3, 0, 0]])
    curled = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]])
    pts = _hand(straight)
    pts[9:13] = curled  # one finger of four curled: (1 + 1 + 1 + 1/3) / 4
    assert finger_straightness(pts) == pytest.approx((3 + 1 / 3) / 4)
    assert finger_straightness(pts * 0.01) == pytest.approx(finger_straightness(pts))

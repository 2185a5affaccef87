"""scripts/calibrate_min_score.py's rule on hand-made rows: the threshold with the fewest missed +
false hands per labelled hand, summed over the dev sets, is the middle of its range."""
import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "calibrate_min_score.py"
spec = importlib.util.spec_from_file_location("calibrate_min_score", SCRIPT)
calib = importlib.util.module_from_spec(spec)
spec.loader.exec_module(calib)


def row(source, scores, matched, label_best):
    return {"source": source, "scores": scores, "matched": matched, "label_best": label_best}


# subhih: two labelled hands scoring 0.7 and 0.9, one face at 0.3 -> no error for thresholds in (0.3, 0.7]
REAL = [row("subhih", [0.9, 0.3], [True, False], [0.9]), row("subhih", [0.7], [True], [0.7])]
# rendered: hands at 0.42 and 0.8, nothing false -> no error up to 0.42
RENDER = [row("render", [0.42], [True], [0.42]), row("render", [0.8], [True], [0.8])]


def test_table_counts_found_and_false_per_threshold():
    by_t = {t: (found, false) for t, found, false in calib.table(REAL, "subhih")}
    assert by_t[0.0] == (1.0, 0.5)  # the face counts once in two images
    assert by_t[0.35] == (1.0, 0.0)
    assert by_t[0.75] == (0.5, 0.0)


def test_real_alone_takes_the_middle_of_its_error_free_range():
    chosen, lo, hi, rate = calib.choose(REAL, ["subhih"])
    assert (lo, hi, rate) == (0.35, 0.7, 0.0)
    assert chosen == pytest.approx(0.525)


def test_rendered_dev_pulls_the_threshold_below_its_hands():
    chosen, lo, hi, rate = calib.choose(REAL + RENDER, ["subhih", "render"])
    assert (lo, hi, rate) == (0.35, 0.4, 0.0)
    assert chosen == pytest.approx(0.375)


def test_overall_leaves_rendered_rows_out():
    assert calib.table(REAL + RENDER, "overall") == calib.table(REAL, "overall")

"""real_hands: the grouped dev split carved out of train, and the per-image, per-source evaluation
of every labelled hand (``training.evaluate.score_real_images``), on a tiny fixture laid out as
``shared/data/real_hands`` (plus one check on the shared data itself, skipped when absent)."""
import json

import cv2
import numpy as np
import pytest

from handpose_live.hand import Hand
from training.data.real_hands import dev_files, group_of, load_records, split_files, split_summary
from training.evaluate import collect_real_images, main as evaluate_main, score_real_images

from training.data.paths import data_root


def _kp(x0, y0, w=30.0, h=40.0):
    """21 keypoints spread over a w x h box at (x0, y0): bbox diagonal sqrt(w^2 + h^2)."""
    t = np.linspace(0, 1, 21)
    return np.stack([x0 + w * t, y0 + h * t[::-1] ** 2], 1)


def _hand(kp, mirrored="Left", score=0.95):
    kp = np.asarray(kp, float)
    return {"kp": [[x, y, 0.0] for x, y in kp], "world_m": [[0.0, 0.0, 0.0]] * 21,
            "handedness_mirrored": mirrored, "score": score, "via": "full"}


def _write_fixture(root, images=True):
    """real_hands/ with sld digit folders and subhih sequences. Train: 10 sld blocks of one photo,
    6 subhih one-hand sequences, 5 with a two-hand frame (2 labelled frames each); val: 2 sld, 2 subhih.
    Odd cases: an unlabelled image, a low-score hand, an sld photo with two detections."""
    rh = root / "real_hands"
    rows, split = [], {"rule": "grouped split (fixture)", "train": [], "val": []}

    def add(file, hands, which, size=(64, 48)):
        w, h = size
        rows.append({"file": file, "source": "fixture", "license": "Apache-2.0", "w": w, "h": h, "hands": hands})
        split[which].append(file)
        if images:
            path = root / file
            path.parent.mkdir(parents=True, exist_ok=True)
            img = np.full((h, w, 3), 40, np.uint8)
            img[:, : w // 2, 2] = 200  # red on the left half (BGR)
            cv2.imwrite(str(path), img)

    for i in range(10):  # sld: IMG numbers 50 apart, one block each, digits alternating
        add(f"real_hands/sld/{i % 2}/IMG_{1000 + 50 * i}.jpg", [_hand(_kp(10, 5))], "train", (48, 48))
    add("real_hands/sld/1/IMG_1001.jpg", [_hand(_kp(10, 5)), _hand(_kp(11, 5))], "train", (48, 48))  # dropped
    for seq in "abcdef":  # one-hand sequences, 2 frames each
        for k in range(2):
            add(f"real_hands/subhih/{seq}_pic0000{k}.jpg", [_hand(_kp(5, 4), "Right")], "train")
    for seq in ("2h1_", "2h2_", "2h3_", "2h4_", "2h5_"):  # sequences with two hands in a frame
        add(f"real_hands/subhih/{seq}pic00000.jpg", [_hand(_kp(2, 2), "Right"), _hand(_kp(32, 2))], "train")
        add(f"real_hands/subhih/{seq}pic00001.jpg", [_hand(_kp(2, 2), "Right")], "train")
        add(f"real_hands/subhih/{seq}pic00002.jpg", [], "train")  # no label
    add("real_hands/subhih/f_pic00002.jpg", [_hand(_kp(5, 4), score=0.5)], "train")  # low score only
    add("real_hands/sld/3/IMG_4100.jpg", [_hand(_kp(10, 5))], "val", (48, 48))
    add("real_hands/sld/3/IMG_4160.jpg", [_hand(_kp(10, 5))], "val", (48, 48))
    add("real_hands/subhih/v_pic00000.jpg", [_hand(_kp(2, 2), "Right"), _hand(_kp(30, 4))], "val", (80, 60))
    add("real_hands/subhih/Hand_0000553.jpg", [_hand(_kp(5, 4))], "val")
    rh.mkdir(parents=True, exist_ok=True)
    (rh / "labels_mediapipe.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (rh / "split.json").write_text(json.dumps(split))
    return rows, split


def test_group_of_follows_the_split_rule():
    assert group_of("real_hands/subhih/3_1528499009.07_pic00012.jpg") == "subhih/3_1528499009.07_"
    assert group_of("real_hands/subhih/pic00001.jpg") == "subhih/"
    assert group_of("real_hands/subhih/Hand_0000553.jpg") == "subhih/Hand_11"
    assert group_of("real_hands/sld/3/IMG_1118.jpg") == group_of("real_hands/sld/7/IMG_1149.jpg") == "sld/IMG_22"
    assert group_of("real_hands/sld/3/IMG_1150.jpg") == "sld/IMG_23"


def test_dev_is_grouped_deterministic_and_leaves_train(tmp_path):
    rows, split = _write_fixture(tmp_path, images=False)
    splits = split_files(tmp_path)
    dev = splits["dev"]
    assert dev == dev_files(rows, list(reversed(split["train"])))  # order-free, stable
    assert splits["train"] == set(split["train"]) - dev and splits["val"] == set(split["val"])
    groups = {k: {group_of(f) for f in v} for k, v in splits.items()}
    assert not groups["train"] & groups["dev"] and not groups["dev"] & groups["val"]
    # per source and stratum: sld 1 of 10 blocks, subhih 1 of 6 one-hand sequences (12 % of 12
    # images: one 2-image sequence fits half under 1.44) and 1 of 5 two-hand sequences
    dev_groups = sorted(groups["dev"])
    assert sum(g.startswith("sld/") for g in dev_groups) == 1
    sub = [g for g in dev_groups if g.startswith("subhih/")]
    assert len(sub) == 2 and sum(g.startswith("subhih/2h") for g in sub) == 1
    # records: train shrinks by dev, val unchanged, filtering as before
    train, dev_recs = load_records(tmp_path, "train"), load_records(tmp_path, "dev")
    assert {r["file"] for r in train} | {r["file"] for r in dev_recs} == {
        r["file"] for r in rows if r["file"] in split["train"] and r["hands"] and "IMG_1001" not in r["file"]
        and r["hands"][0]["score"] >= 0.8}
    assert not {r["file"] for r in train} & {r["file"] for r in dev_recs}
    assert len(load_records(tmp_path, "val")) == 4
    summary = split_summary(tmp_path)
    assert summary["dev"]["subhih"] == {"groups": 2, "files": 5, "images": 4, "hands": 5}
    with pytest.raises(ValueError):
        load_records(tmp_path, "test")


def test_score_real_images_by_hand():
    """subhih: one image, a right hand found 4 px off (diag 50) but called left, a left hand missed,
    and a false hand; sld: one right hand found exactly. ``crop_kp`` 10 px off on the sld hand."""
    gt1, gt2, gt3 = _kp(0, 0), _kp(200, 200), _kp(10, 10)
    images = [
        {"source": "subhih",
         "labels": [{"kp": gt1, "side": "right", "crop_kp": gt1}, {"kp": gt2, "side": "left", "crop_kp": gt2}],
         "preds": [{"kp": gt1 + [2.4, 3.2], "side": "left"}, {"kp": _kp(400, 0), "side": "right"}]},
        {"source": "sld", "labels": [{"kp": gt3, "side": "right", "crop_kp": gt3 + [6.0, 8.0]}],
         "preds": [{"kp": gt3, "side": "right"}]},
    ]
    r = score_real_images(images)
    assert list(r) == ["sld", "subhih", "overall"]
    sub, sld, allm = r["subhih"], r["sld"], r["overall"]
    assert (sub["images"], sub["hands"], sub["found"], sub["false_hands_per_image"]) == (1, 2, 0.5, 1.0)
    assert sub["median_err_over_diag"] is None  # half the keypoints missed: the median is infinite
    assert sub["pck@0.05diag"] == 0 and sub["pck@0.1diag"] == 0.5
    assert sub["median_err_px_found"] == pytest.approx(4.0)
    assert sub["side_accuracy"] == 0 and sub["side_balanced_accuracy"] == 0
    assert sub["side_counts"] == {"left": 1, "right": 1}
    assert sub["gt_crop"] == {"pck@0.1diag": 1.0, "median_err_over_diag": 0.0, "3d": None}
    assert sub["3d_found"] is None  # no 3D labels here
    assert (sld["found"], sld["false_hands_per_image"], sld["median_err_over_diag"]) == (1.0, 0.0, 0.0)
    assert sld["pck@0.05diag"] == sld["pck@0.1diag"] == 1.0 and sld["side_accuracy"] == 1.0
    assert sld["side_balanced_accuracy"] is None  # no left hand labelled
    assert sld["gt_crop"]["pck@0.1diag"] == 0.0 and sld["gt_crop"]["median_err_over_diag"] == pytest.approx(0.2)
    assert (allm["images"], allm["hands"]) == (2, 3)
    assert allm["found"] == pytest.approx(2 / 3) and allm["false_hands_per_image"] == 0.5
    assert allm["median_err_over_diag"] == pytest.approx(0.08)
    assert allm["pck@0.05diag"] == pytest.approx(1 / 3) and allm["pck@0.1diag"] == pytest.approx(2 / 3)
    assert allm["median_err_px_found"] == pytest.approx(2.0)
    assert allm["side_accuracy"] == pytest.approx(1 / 3)
    assert allm["side_balanced_accuracy"] == pytest.approx(0.25)  # left 0/1, right 1/2


def test_score_real_images_3d_against_pseudo_labels():
    """3D per source: a found hand twice the label's size and turned 90 degrees about z scores
    PA-MPJPE 0 and rotation 90 degrees; its crop prediction, the label itself, scores 0."""
    rng = np.random.default_rng(1)
    xyz = rng.normal(scale=0.03, size=(21, 3))
    xyz[10] = xyz[9] + [0.0, -0.04, 0.0]  # a middle MCP->PIP bone of 4 cm
    turn = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    pred = 2 * (xyz - xyz[0]) @ turn.T
    gt = _kp(0, 0)
    images = [{"source": "subhih",
               "labels": [{"kp": gt, "side": "left", "xyz": xyz, "crop_kp": gt, "crop_xyz": xyz}],
               "preds": [{"kp": gt, "side": "left", "xyz": pred}]}]
    r = score_real_images(images)["subhih"]
    assert r["3d_found"]["hands"] == 1
    assert r["3d_found"]["pa_mpjpe_mm"] == pytest.approx(0.0, abs=1e-6)
    assert r["3d_found"]["rotation_median_deg"] == pytest.approx(90.0, abs=1e-4)
    assert r["3d_found"]["median_mm"] > 10  # root-relative error counts the turn
    crop = r["gt_crop"]["3d"]
    assert crop["median_mm"] == pytest.approx(0.0, abs=1e-6) and crop["rotation_p90_deg"] == pytest.approx(0.0, abs=1e-3)


def test_score_real_images_matching_rule():
    """Each label takes its nearest hand, found under half its diagonal (as the hook script): two
    labels may take one hand; a hand beyond half the diagonal is a miss and a false hand."""
    gt = _kp(0, 0)  # diag 50
    near, far = gt + [0.0, 24.0], gt + [0.0, 26.0]
    r = score_real_images([
        {"source": "subhih", "labels": [{"kp": gt, "side": "right"}, {"kp": gt + 1, "side": "right"}],
         "preds": [{"kp": near, "side": "right"}]},
        {"source": "subhih", "labels": [{"kp": gt, "side": "right"}], "preds": [{"kp": far, "side": "right"}]},
        {"source": "subhih", "labels": [{"kp": gt, "side": "left"}], "preds": []},
    ])["subhih"]
    assert r["found"] == 0.5 and r["false_hands_per_image"] == pytest.approx(1 / 3)
    assert "gt_crop" not in r and r["side_counts"] == {"left": 1, "right": 3}


class _FakeEstimator:
    """Reports one right hand on the left half of each frame; records what it was given."""

    def __init__(self):
        self.frames = []

    def process(self, frames):
        self.frames += frames
        return [[Hand("right", 0.9, (0, 0, 1, 1), _kp(2, 2).astype(np.float32), np.ones(21, np.float32),
                      np.zeros((21, 3), np.float32))] for _ in frames]

    def keypoints_in_boxes(self, frames, boxes, sides):
        from handpose_live.skeleton import user_to_rhd

        return [(user_to_rhd(_kp(2, 2)), np.ones(21), np.zeros((21, 3))) for _ in range(len(boxes[0]))]


def test_collect_reads_frames_as_headless_does(tmp_path):
    _write_fixture(tmp_path)
    est = _FakeEstimator()
    images = collect_real_images(est, tmp_path, load_records(tmp_path, "val"))
    assert [f.shape for f in est.frames] == [(48, 48, 3), (48, 48, 3), (60, 80, 3), (48, 64, 3)]
    assert est.frames[0][10, 2, 2] > 150 > est.frames[0][10, 2, 0]  # BGR, original size
    assert [im["source"] for im in images] == ["sld", "sld", "subhih", "subhih"]
    assert [lab["side"] for lab in images[2]["labels"]] == ["left", "right"]  # "Right" mirrored = left
    r = score_real_images(images)
    # the reported hand: exact on v_pic00000's first hand, 3.6 px off Hand_0000553's, 28 px off the
    # second hand of v_pic00000 (over half its 50 px diagonal: missed)
    assert r["subhih"]["hands"] == 3 and r["subhih"]["found"] == pytest.approx(2 / 3)
    assert r["subhih"]["false_hands_per_image"] == 0
    assert r["sld"]["found"] == 1 and r["sld"]["median_err_px_found"] == pytest.approx(8.5, abs=0.1)  # (8, 3) off
    assert r["subhih"]["gt_crop"]["pck@0.1diag"] == pytest.approx(2 / 3)


def test_cli_writes_per_source_metrics(tmp_path, tiny_model_dir, capsys):
    _write_fixture(tmp_path / "data")
    out = tmp_path / "eval"
    rc = evaluate_main(["--model", str(tiny_model_dir), "--data", f"real_hands={tmp_path / 'data'}",
                        "--split", "dev", "--device", "cpu", "--threads", "1", "--out", str(out)])
    assert rc == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["split"] == "dev" and set(m["per_source"]) == {"sld", "subhih", "overall"}
    assert m["precision"] == "fp32"  # pinned: the app's auto would time bf16 against fp32 at load
    assert m["per_source"]["overall"]["hands"] == 6 and m["per_source"]["sld"]["images"] == 1
    assert "gt_crop" in m["per_source"]["subhih"]
    assert "overall" in capsys.readouterr().out
    assert evaluate_main(["--model", str(tiny_model_dir), "--data", f"real_hands={tmp_path / 'data'}",
                          "--split", "test", "--device", "cpu", "--out", str(out)]) == 2
    # the largest hand per image, scored as the other sets are
    rc = evaluate_main(["--model", str(tiny_model_dir), "--data", f"real_hands={tmp_path / 'data'}", "--split", "dev",
                        "--largest-hand", "--n", "2", "--image-size", "64", "--device", "cpu", "--out", str(out)])
    m = json.loads((out / "metrics.json").read_text())
    assert rc == 0 and m["samples"] == 2 and "full" in m and "per_source" not in m


SHARED_DATA = data_root()


@pytest.mark.data
@pytest.mark.skipif(not (SHARED_DATA / "real_hands" / "split.json").is_file(), reason="shared data absent")
def test_shared_dev_split_is_grouped_and_large_enough():
    s = split_summary(SHARED_DATA)  # raises when a group straddles two splits
    fixed = json.loads((SHARED_DATA / "real_hands" / "split.json").read_text())
    assert s["dev"]["subhih"]["images"] >= 100 and s["dev"]["sld"]["images"] >= 100
    for src in ("sld", "subhih"):
        share = s["dev"][src]["images"] / (s["dev"][src]["images"] + s["train"][src]["images"])
        assert 0.08 < share < 0.2
        assert s["train"][src]["files"] + s["dev"][src]["files"] == sum(
            f.split("/")[1] == src for f in fixed["train"])

import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from handpose_live import crop
from handpose_live.checkpoint import build_networks
from handpose_live.model_config import preset
from handpose_live.pipeline import LOST_TRACK_REACH, HandPoseEstimator
from handpose_live.skeleton import Keypoint

from fakes import CentreColourPoseNet, CentrePoseNet, FollowRedPoseNet, RedIsHandSegNet


def fake_estimator(mode="image", points=None, precision="fp32"):
    """Real geometry, real lifting nets (random), fake segmentation (red/blue = hand) and a
    PoseNet whose keypoints sit at known crop positions."""
    config = preset("tiny")
    nets = build_networks(config)
    size = config.posenet.input_size
    if points is None:
        points = torch.full((21, 2), size / 2.0)
    nets["handsegnet"], nets["posenet"] = RedIsHandSegNet(), CentrePoseNet(points, size)
    return HandPoseEstimator(config, nets, device="cpu", precision=precision, mode=mode)


def frame_with_squares(h, w, squares):
    frame = np.full((h, w, 3), 90, np.uint8)
    for (x0, y0, x1, y1), bgr in squares:
        frame[y0:y1, x0:x1] = bgr
    return frame


RED, BLUE = (0, 0, 255), (255, 0, 0)


def test_image_mode_finds_hands_where_they_are_on_frames_of_different_sizes():
    est = fake_estimator()
    frames = [
        frame_with_squares(480, 640, [((100, 200, 180, 300), RED), ((400, 50, 460, 120), BLUE)]),
        frame_with_squares(240, 180, [((20, 30, 80, 90), BLUE)]),
        np.zeros((50, 70, 3), np.uint8),  # all black: no hand
    ]
    results = est.process(frames)
    assert [len(r) for r in results] == [2, 1, 0]
    sides = sorted(h.side for h in results[0])
    assert sides == ["left", "right"]
    right = next(h for h in results[0] if h.side == "right")
    # every keypoint at the crop centre -> the centre of the red square (plus the region box's
    # calibrated shift x its longer side, 100 px), in frame pixels
    assert right.keypoints_2d.mean(0) == pytest.approx(np.add([140, 250], np.multiply(crop.REGION_SHIFT, 100)), abs=6)
    (x0, y0, x1, y1) = right.crop_box
    assert (x1 - x0) == pytest.approx(100 * crop.REGION_ENLARGE, rel=0.1)  # longer side x region factor
    left_small = results[1][0]
    assert left_small.side == "left"
    assert left_small.keypoints_2d.mean(0) == pytest.approx([50, 60], abs=4)
    for hand in results[0] + results[1]:
        assert hand.keypoints_2d.shape == (21, 2) and hand.keypoint_scores.shape == (21,)
        assert hand.keypoints_3d.shape == (21, 3) and np.isfinite(hand.keypoints_3d).all()
        assert np.allclose(hand.keypoints_3d[Keypoint.WRIST], 0)
        assert 0 <= hand.score <= 1
    assert len({h.track_id for h in results[0] + results[1]}) == 3
    assert [m.shape for m in est.last_masks] == [(480, 640), (240, 180), (50, 70)]
    assert est.last_masks[0][250, 140] == 2 and est.last_masks[0][80, 430] == 1


def test_a_phone_photo_is_downscaled_inside_not_refused_and_answers_in_its_own_pixels():
    small = frame_with_squares(600, 1000, [((200, 200, 400, 400), RED)])
    big = cv2.resize(small, (5000, 3000), interpolation=cv2.INTER_NEAREST)  # 5000 px > WORK_MAX_SIDE
    est = fake_estimator()
    (hand_small,), (hand_big,) = est.process([small])[0], est.process([big])[0]
    assert hand_big.keypoints_2d == pytest.approx(hand_small.keypoints_2d * 5, abs=8)
    assert np.array(hand_big.bbox) == pytest.approx(np.array(hand_small.bbox) * 5, abs=10)
    assert np.array(hand_big.crop_box) == pytest.approx(np.array(hand_small.crop_box) * 5, abs=10)
    assert est.last_masks[0].shape == (3000, 5000) and est.last_masks[0][1500, 1500] > 0
    assert hand_big.keypoints_3d == pytest.approx(hand_small.keypoints_3d, abs=1e-3)


def test_keypoints_come_out_in_user_order():
    size = preset("tiny").posenet.input_size
    points = torch.full((21, 2), size / 2.0)
    points[1, 0] = size / 2 + 20  # RHD keypoint 1 = thumb tip: to the right of the centre
    est = fake_estimator(points=points)
    hand = est.process([frame_with_squares(200, 200, [((60, 60, 140, 140), RED)])])[0][0]
    xs = hand.keypoints_2d[:, 0]
    assert int(np.argmax(xs)) == Keypoint.THUMB_TIP


def test_video_mode_tracks_without_segmenting_every_frame():
    est = fake_estimator(mode="video")
    est.nets["posenet"] = FollowRedPoseNet(est.config.posenet.input_size)
    frames = [frame_with_squares(240, 320, [((60 + 4 * i, 80, 140 + 4 * i, 170), RED)]) for i in range(12)]
    results = est.process(frames[:6]) + est.process(frames[6:])
    assert all(len(r) == 1 for r in results)
    assert len({r[0].track_id for r in results}) == 1  # one stable id
    first, last = results[0][0].bbox, results[-1][0].bbox
    assert first[0] == pytest.approx(60, abs=4) and last[0] == pytest.approx(104, abs=4)  # followed it
    seg = est.nets["handsegnet"]
    assert seg.calls < 12  # tracking skipped segmentation on most frames
    assert est.last_masks[0] is None or est.last_masks[0].shape == (240, 320)
    est.reset()
    again = est.process(frames[:1])[0][0]
    assert again.track_id != results[0][0].track_id  # a new stream gets new ids


def test_video_mode_falls_back_to_segmentation_when_the_track_is_lost():
    est = fake_estimator(mode="video")
    est.process([frame_with_squares(240, 320, [((40, 40, 120, 120), RED)])])
    calls = est.nets["handsegnet"].calls
    est.nets["posenet"].points_px = torch.full((21, 2), -1000.0)  # confidence collapses
    out = est.process([frame_with_squares(240, 320, [((200, 100, 280, 180), RED)])])
    assert est.nets["handsegnet"].calls == calls + 1
    assert out == [[]]


def test_two_class_model_needs_the_hand_side():
    config = preset("tiny")
    config.handsegnet.num_classes = 2
    est = HandPoseEstimator(config, build_networks(config), device="cpu", precision="fp32")
    frame = np.zeros((64, 64, 3), np.uint8)
    with pytest.raises(ValueError, match="hand_sides"):
        est.process([frame])
    est.config.detection.mask_threshold = est.config.detection.min_score = 0.0  # random weights: take all
    hands = est.process([frame], hand_sides=["left"])[0]
    assert hands and all(h.side == "left" for h in hands)


def test_real_random_model_end_to_end_both_modes(tiny_model_dir):
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, s, dtype=np.uint8) for s in [(480, 640, 3), (300, 200, 3), (64, 64, 3)]]
    for mode in ("image", "video"):
        est = HandPoseEstimator.from_pretrained(tiny_model_dir, device="cpu", mode=mode)
        # random weights find no hand at the shipped thresholds: take every pixel and every score,
        # so the per-hand checks below run on real output (they passed vacuously over zero hands)
        est.config.detection.mask_threshold = 0.0
        est.config.detection.min_score = 0.0
        est.config.detection.track_min_confidence = 0.0
        results = est.process(frames)
        assert len(results) == 3
        assert all(len(hands) >= 1 for hands in results), [len(h) for h in results]
        for frame, hands in zip(frames, results):
            assert len(hands) <= est.config.detection.max_hands
            for h in hands:
                x0, y0, x1, y1 = h.bbox
                assert 0 <= x0 <= x1 < frame.shape[1] and 0 <= y0 <= y1 < frame.shape[0]
                assert h.side in ("left", "right")
            assert [h.score for h in hands] == sorted((h.score for h in hands), reverse=True)


@pytest.mark.parametrize("bad, message", [
    (np.zeros((10, 10, 3), np.uint8), "list of frames"),
    ([np.zeros((10, 10, 3), np.float32)], "uint8"),
    ([np.zeros((10, 10), np.uint8)], "HxWx3"),
    ([np.zeros((10, 10, 4), np.uint8)], "HxWx3"),
    ([np.zeros((1, 1, 3), np.uint8)], "too small"),
    ([np.zeros((40000, 4, 3), np.uint8)], "exceeds"),
    (["not a frame"], "numpy array"),
])
def test_bad_input_is_a_precise_value_error(bad, message):
    with pytest.raises(ValueError, match=message):
        fake_estimator().process(bad)


def test_empty_input_and_black_frames():
    est = fake_estimator()
    assert est.process([]) == []
    assert est.process([np.zeros((2, 2, 3), np.uint8), np.zeros((720, 1280, 3), np.uint8)]) == [[], []]


def test_bad_device_and_precision_are_value_errors():
    config = preset("tiny")
    with pytest.raises(ValueError, match="device"):
        HandPoseEstimator(config, build_networks(config), device="tpu")
    with pytest.raises(ValueError, match="precision"):
        HandPoseEstimator(config, build_networks(config), device="cpu", precision="int3")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA"):
            HandPoseEstimator(config, build_networks(config), device="cuda")


def test_auto_precision_on_cpu_picks_bf16_only_when_it_measures_faster(monkeypatch):
    from handpose_live import pipeline
    from handpose_live.pipeline import resolve_precision

    cpu = torch.device("cpu")
    monkeypatch.setattr(pipeline, "native_bf16", lambda: True)
    seconds = {None: 0.020}
    probe = lambda dtype: seconds[dtype]  # noqa: E731
    seconds[torch.bfloat16] = 0.028  # slower (AVX-512 without AMX): fp32
    assert resolve_precision("auto", cpu, probe) is None
    seconds[torch.bfloat16] = 0.019  # faster, but within the margin: fp32
    assert resolve_precision("auto", cpu, probe) is None
    seconds[torch.bfloat16] = 0.010  # clearly faster: bf16
    assert resolve_precision("auto", cpu, probe) is torch.bfloat16
    assert resolve_precision("fp32", cpu, probe) is None and resolve_precision("bf16", cpu, probe) is torch.bfloat16
    monkeypatch.setattr(pipeline, "native_bf16", lambda: False)
    assert resolve_precision("auto", cpu, lambda dtype: 0.0) is None


def test_time_precisions_runs_both_networks_at_the_model_sizes():
    from handpose_live.pipeline import time_precisions

    config = preset("tiny")
    nets = build_networks(config)
    shapes = {"handsegnet": [], "posenet": []}
    for name in shapes:
        nets[name].register_forward_hook(lambda m, inp, out, name=name: shapes[name].append(tuple(inp[0].shape)))
    seconds = time_precisions({None: nets}, config, torch.device("cpu"), torch.contiguous_format, rounds=1)
    assert seconds[None] > 0  # two warm-up passes and one timed
    s = config.posenet.input_size
    assert shapes["handsegnet"] == [(1, 3, *config.handsegnet.input_size)] * 3
    assert shapes["posenet"] == [(2, 3, s, s)] * 3


def test_time_precisions_alternates_the_variants_as_they_would_run():
    from handpose_live.pipeline import cast_networks, time_precisions

    config = preset("tiny")
    nets = build_networks(config)
    cast = cast_networks(nets, torch.bfloat16)
    assert cast["handsegnet"] is not nets["handsegnet"] and cast["poseprior"] is nets["poseprior"]
    assert next(cast["posenet"].parameters()).dtype == torch.bfloat16  # conv weights stored in bf16
    assert next(nets["posenet"].parameters()).dtype == torch.float32  # the caller's untouched
    seen = []
    for dtype, variant in ((None, nets), (torch.bfloat16, cast)):
        variant["handsegnet"].register_forward_hook(
            lambda m, inp, out, d=dtype: seen.append((d, torch.is_autocast_enabled("cpu"))))
    times = time_precisions({None: nets, torch.bfloat16: cast}, config, torch.device("cpu"),
                            torch.contiguous_format, rounds=4)
    assert set(times) == {None, torch.bfloat16} and all(t > 0 for t in times.values())
    # 2 warm-ups + 4 rounds each, pairs in ABBA order (AB, BA, BA, AB, ...), bf16 under autocast
    a, b = None, torch.bfloat16
    assert [d for d, _ in seen] == [a, b, b, a, b, a, a, b, a, b, b, a]
    assert all(on == (d is not None) for d, on in seen)


def test_bf16_matches_fp32_geometry():
    frame = frame_with_squares(240, 320, [((100, 60, 180, 160), RED)])
    a = fake_estimator(precision="fp32").process([frame])[0][0]
    b = fake_estimator(precision="bf16").process([frame])[0][0]
    assert np.allclose(a.keypoints_2d, b.keypoints_2d, atol=2.0)


def test_crop_box_is_reported_in_frame_pixels():
    est = fake_estimator()
    hand = est.process([frame_with_squares(200, 300, [((100, 50, 160, 150), RED)])])[0][0]
    expected = crop.box_corners(crop.region_box(np.array([[100, 50, 160, 150]])))[0]
    assert np.allclose(hand.crop_box, expected, atol=3)


@pytest.mark.slow  # > 2 s on the 2-core dev VM (pytest --durations)
def test_importing_the_package_pulls_in_neither_qt_nor_training():
    code = ("import sys, handpose_live, handpose_live.pipeline, handpose_live.checkpoint; "
            "bad = [m for m in ('PyQt5', 'pyqtgraph', 'training') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_runtime_crop_matches_training_crop():
    """The estimator crops uint8 frames with cv2, training crops float batches with grid_sample:
    same pixels (within uint8 rounding) for windows inside, across the border of, and larger than
    the frame, so PoseNet sees at run time what it was trained on."""
    import cv2

    from handpose_live.preprocess import normalise

    rng = np.random.default_rng(0)
    frame = cv2.GaussianBlur(rng.integers(0, 255, (300, 400, 3), dtype=np.uint8), (0, 0), 2)
    boxes = np.array([[50, 40, 100], [390, 10, 60], [200, 150, 500], [123.4, 77.7, 33.3]], np.float32)
    size = 64
    ours = normalise(torch.from_numpy(crop.crop_frame(frame, boxes, size)).permute(0, 3, 1, 2))
    frame_rgb = normalise(torch.from_numpy(frame[:, :, ::-1].copy()).permute(2, 0, 1))  # as training normalises
    training = crop.crop_and_resize(frame_rgb, torch.from_numpy(boxes), size)
    assert ours.shape == training.shape == (4, 3, size, size)
    assert (ours - training).abs().max() < 1.5 / 255
    assert (ours - training).abs().mean() < 0.5 / 255
    # and the channel order: RGB, as training's normalise(image_rgb)
    assert torch.allclose(ours[0, 0], training[0, 0], atol=1.5 / 255)


def side_head_estimator(mode="image", classes=3):
    """Fake segmentation (red = a right hand by its vote) and a PoseNet side head that calls a
    crop with green in it a left hand."""
    from fakes import GreenIsLeftPoseNet

    config = preset("tiny")
    config.posenet.side_head = True
    config.handsegnet.num_classes = classes
    nets = build_networks(config)
    size = config.posenet.input_size
    nets["handsegnet"], nets["posenet"] = RedIsHandSegNet(), GreenIsLeftPoseNet(torch.full((21, 2), size / 2.0), size)
    return HandPoseEstimator(config, nets, device="cpu", precision="fp32", mode=mode)


GREEN = (0, 255, 0)


def test_side_head_decides_the_side_and_an_override_wins():
    est = side_head_estimator()
    plain = frame_with_squares(200, 300, [((100, 50, 160, 150), RED)])
    marked = frame_with_squares(200, 300, [((100, 50, 160, 150), RED), ((120, 60, 130, 70), GREEN)])
    assert [h.side for h in est.process([plain])[0]] == ["right"]
    assert [h.side for h in est.process([marked])[0]] == ["left"]  # the head, not the segmentation's vote
    assert [h.side for h in est.process([marked], hand_sides=["right"])[0]] == ["right"]
    (kp, _, _, side, p_right), = est.keypoints_in_boxes([marked], [np.array([[130, 100, 120]])], [[None]],
                                                        return_sides=True)
    assert side == "left" and p_right < 0.01


def test_a_two_class_model_with_a_side_head_needs_no_hand_side():
    est = side_head_estimator(classes=2)
    frame = frame_with_squares(200, 300, [((100, 50, 160, 150), RED), ((120, 60, 130, 70), GREEN)])
    assert [h.side for h in est.process([frame])[0]] == ["left"]


def test_video_mode_averages_the_side_over_frames():
    """A hand does not change side between frames: one frame that reads differently does not
    flip it; a steady new reading does, after a few frames."""
    est = side_head_estimator(mode="video")
    marked = frame_with_squares(200, 300, [((100, 50, 160, 150), RED), ((125, 95, 135, 105), GREEN)])
    plain = frame_with_squares(200, 300, [((100, 50, 160, 150), RED)])
    sides = [h.side for f in [marked] * 3 + [plain] + [marked] + [plain] * 6 for h in est.process([f])[0]]
    assert sides[:5] == ["left"] * 5  # the single plain frame did not flip it
    assert sides[-1] == "right" and sides.index("right") > 5  # six plain frames did, not at once
    assert len({h.track_id for h in est.process([plain])[0]}) == 1


@pytest.mark.parametrize("mode", ["image", "video"])
def test_extra_candidates_let_a_hand_outranked_by_two_faces_through(mode):
    from fakes import YellowOutshinesRedSegNet

    YELLOW = (0, 255, 255)
    frame = frame_with_squares(240, 320, [((20, 20, 70, 70), YELLOW), ((230, 20, 290, 70), YELLOW),
                                          ((120, 140, 200, 220), RED)])
    found = {}
    for extra in (0, 1):
        est = fake_estimator(mode=mode)
        est.nets["handsegnet"] = YellowOutshinesRedSegNet()
        est.nets["posenet"] = FollowRedPoseNet(est.config.posenet.input_size)  # confident only on red
        est.config.detection.min_score = 0.3
        est.config.detection.extra_candidates = extra
        found[extra] = est.process([frame])[0]
    assert found[0] == []  # the two "faces" took both places and failed the score
    (hand,) = found[1]
    centre = np.add(hand.bbox[:2], hand.bbox[2:]) / 2
    assert centre == pytest.approx([160, 180], abs=8)  # on the red square, not a "face"
    assert hand.score >= 0.3


def test_lifting_nets_reading_posenet_features_run_in_both_modes(tmp_path):
    """A model whose PosePrior and ViewPoint read PoseNet's image features loads from its folder
    and gives 3D keypoints in image and video mode."""
    from handpose_live.checkpoint import save_model
    from handpose_live.models import PoseNet

    torch.manual_seed(0)
    config = preset("tiny")
    config.poseprior.image_channels = config.viewpoint.image_channels = PoseNet(config.posenet).feature_channels
    config.detection.mask_threshold = config.detection.min_score = config.detection.track_min_confidence = 0.0
    folder = save_model(tmp_path / "feat", config, build_networks(config))
    frame = np.random.default_rng(0).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    for mode in ("image", "video"):
        est = HandPoseEstimator.from_pretrained(folder, device="cpu", mode=mode)
        assert est.config.viewpoint.image_channels > 0
        hands = est.process([frame])[0]
        assert hands and all(np.isfinite(h.keypoints_3d).all() for h in hands)


class CentredRedPoseNet(FollowRedPoseNet):
    """``FollowRedPoseNet`` that loses red lying off the crop's centre (its bbox centre over a
    quarter of the crop away): as a real PoseNet loses a hand half out of its crop."""

    def forward(self, x):
        maps = super().forward(x)[-1].clone()
        size = x.shape[-1]
        for i, m in enumerate(self.red_pixels(x)):
            ys, xs = torch.nonzero(m, as_tuple=True)
            if not len(xs):
                continue
            off_x, off_y = abs((xs.min() + xs.max()) / 2 - size / 2), abs((ys.min() + ys.max()) / 2 - size / 2)
            if max(off_x, off_y) > size / 4:
                maps[i] = 0
        return [maps, maps, maps]


def test_video_mode_gives_a_lost_track_id_back_to_its_hand_found_further_away():
    est = fake_estimator(mode="video")
    est.nets["posenet"] = CentredRedPoseNet(est.config.posenet.input_size)
    w = 60
    first = est.process([frame_with_squares(240, 480, [((40, 80, 40 + w, 80 + w), RED)])])[0][0]
    cx, side = (float(v) for v in est._tracks[0].box[[0, 2]])  # the track's next crop window
    # the square jumps right: its centre beyond that window (where the old rule stopped), within
    # LOST_TRACK_REACH x it; off the crop's centre, so the track is lost and segmentation finds it
    shift = int(round(0.75 * side))
    assert side / 2 < shift < LOST_TRACK_REACH * side / 2
    x0 = int(round(cx + shift - w / 2))
    calls = est.nets["handsegnet"].calls
    far = est.process([frame_with_squares(240, 480, [((x0, 80, x0 + w, 80 + w), RED)])])[0]
    assert est.nets["handsegnet"].calls == calls + 1  # it was lost (no search is due yet)...
    assert len(far) == 1 and far[0].track_id == first.track_id  # ...and its id given back
    assert (far[0].bbox[0] + far[0].bbox[2]) / 2 == pytest.approx(x0 + w / 2, abs=6)  # found where it went
    # a hand appearing at the other end of the frame is another hand: a new id
    est.reset()
    a = est.process([frame_with_squares(240, 480, [((10, 80, 50, 120), RED)])])[0][0]
    b = est.process([frame_with_squares(240, 480, [((420, 80, 460, 120), RED)])])[0][0]
    assert b.track_id != a.track_id


def test_find_track_reach_and_nearest_first():
    from handpose_live.tracking import Track, find_track

    track = Track(0, "right", np.array([100.0, 100.0, 60.0]), np.array([70.0, 70.0, 130.0, 130.0]), 0.9)
    moved = np.array([135.0, 90.0, 175.0, 130.0])  # centre (155, 110): 55 px right of the window centre
    assert find_track(moved, [track]) == -1  # beyond the window's half side (30 px)
    assert find_track(moved, [track], reach=2.0) == 0  # within twice that
    near = Track(1, "left", np.array([150.0, 100.0, 60.0]), np.array([0.0, 0.0, 1.0, 1.0]), 0.9)
    assert find_track(moved, [track, near], reach=2.0) == 1  # no overlap with either: the nearer


def test_a_lost_track_whose_window_shrank_still_takes_its_hand_back():
    """A track lost after its keypoints bunched has a small last window; the hand found again
    (with a crop box of its real size) takes the id back when it lies within the reach of a
    window at least that wide — but not one far away."""
    from handpose_live.tracking import Track, find_track

    shrunk = Track(3, "right", np.array([100.0, 100.0, 52.0]), np.array([90.0, 90.0, 110.0, 110.0]), 0.9)
    found = np.array([120.0, 50.0, 220.0, 150.0])  # centre (170, 100): 70 px away, a 100-px hand
    assert find_track(found, [shrunk], reach=2.0) == -1  # 2 x 52 / 2 = 52 px: too far for the shrunk window
    assert find_track(found, [shrunk], reach=2.0, min_side=125.0) == 0  # 2 x 125 / 2 = 125 px
    far = np.array([300.0, 50.0, 400.0, 150.0])  # centre 250 px away
    assert find_track(far, [shrunk], reach=2.0, min_side=125.0) == -1


@pytest.mark.parametrize("exclude", [True, False])
def test_video_mode_finds_a_new_hand_touching_a_tracked_one(monkeypatch, exclude):
    """Segmentation merges two touching hands into one region; the search for new hands leaves the
    tracked hand's pixels out, so the new one is found on its own (without that, never)."""
    import handpose_live.pipeline as pipeline

    if not exclude:
        monkeypatch.setattr(pipeline, "tracked_hand_box", lambda bbox: np.zeros(4, np.float32))
    est = fake_estimator(mode="video")
    est.nets["posenet"] = CentreColourPoseNet(est.config.posenet.input_size)
    est.config.detection.redetect_interval = 1  # search for a second hand on every frame
    # touching: one segmentation region, whose centre lies in the red track's crop window (so the
    # search took it for the tracked hand)
    red, blue = (100, 80, 180, 160), (180, 90, 230, 150)
    assert len(est.process([frame_with_squares(240, 480, [(red, RED)])])[0]) == 1
    both = frame_with_squares(240, 480, [(red, RED), (blue, BLUE)])
    regions = est._segment([both])[0][0]
    assert len(regions) == 1  # merged
    hands = est.process([both])[0]
    if not exclude:
        assert len(hands) == 1
        return
    assert sorted(h.side for h in hands) == ["left", "right"]
    left = next(h for h in hands if h.side == "left")
    assert (left.bbox[0] + left.bbox[2]) / 2 == pytest.approx((blue[0] + blue[2]) / 2, abs=8)  # on the blue hand
    assert est.last_masks[0] is None or (est.last_masks[0] == 2).any()  # the mask still shows the red hand


def test_reduced_precision_casts_its_own_copies_of_the_weights_once():
    """With bf16 the estimator holds the autocast networks' conv and linear weights in bf16 (cast
    once, not on every call) in its own copies: the networks it was given keep fp32, so an fp32
    estimator built from them after runs, and both give nearly the same keypoints."""
    torch.manual_seed(0)
    config = preset("tiny")
    nets = build_networks(config)
    half = HandPoseEstimator(config, nets, device="cpu", precision="bf16")
    assert next(half.nets["posenet"].parameters()).dtype == torch.bfloat16
    assert next(half.nets["poseprior"].parameters()).dtype == torch.float32  # not run under autocast
    assert next(nets["posenet"].parameters()).dtype == torch.float32
    full = HandPoseEstimator(config, nets, device="cpu", precision="fp32")
    frame = np.random.default_rng(0).integers(0, 255, (96, 128, 3), dtype=np.uint8)
    box = [np.array([[64, 48, 60]], np.float32)]
    (kp16, _, _), = half.keypoints_in_boxes([frame], box, [["left"]])
    (kp32, _, _), = full.keypoints_in_boxes([frame], box, [["left"]])
    assert np.abs(kp16 - kp32).max() < 5.0  # px in a 96x128 frame: the same hand, bf16 rounding apart


def test_segmentation_of_a_bgr_frame_sees_the_same_pixels_as_of_its_rgb_copy():
    """The estimator hands BGR frames to segmentation, which turns the channels on the small
    letterboxed canvas: the network input and the regions must equal those of the RGB frame."""
    from handpose_live.model_config import DetectionConfig
    from handpose_live.segmentation import segment_frames

    class Recording(RedIsHandSegNet):
        def forward(self, x):
            self.seen = x.clone()
            return super().forward(x)

    rng = np.random.default_rng(3)
    bgr = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
    bgr[100:220, 300:420] = RED  # BGR red: a right hand to RedIsHandSegNet
    bgr[300:400, 60:160] = BLUE
    rgb = np.ascontiguousarray(bgr[:, :, ::-1])
    a, b = Recording(), Recording()
    det = DetectionConfig()
    (regions_bgr, mask_bgr), = segment_frames(a, [bgr], (128, 160), det, torch.device("cpu"), bgr=True)
    (regions_rgb, mask_rgb), = segment_frames(b, [rgb], (128, 160), det, torch.device("cpu"))
    assert torch.equal(a.seen, b.seen)
    np.testing.assert_array_equal(mask_bgr, mask_rgb)
    assert sorted(r.side for r in regions_bgr) == ["left", "right"]
    for p, q in zip(regions_bgr, regions_rgb):
        assert p.side == q.side and np.allclose(p.bbox, q.bbox)
    right = next(r for r in regions_bgr if r.side == "right")
    assert 280 <= right.bbox[0] <= 310 and 410 <= right.bbox[2] <= 440  # on the red square

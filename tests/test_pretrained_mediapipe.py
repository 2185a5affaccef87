"""The MediaPipe Hands landmark network converted with our own code (training/pretrained/
mediapipe_landmark.py) against the TFLite runtime (ai-edge-litert), and its encoder inside PoseNet.

Needs the training requirements (``scripts/install.sh --dev`` installs them) and, once per machine,
the mediapipe 0.10.21 wheel (35.6 MB, pip download into data_cache/pretrained/). Skips only when
PyPI cannot be reached for that download.

The fixture crop ``fixtures/rendered_hand_crop_224.png`` is our own rendering (training/render,
RenderedHands seed 7, index 10, one hand, rotated upright and cropped as MediaPipe crops):
``python tests/test_pretrained_mediapipe.py --make-fixture`` re-renders it (needs the hand mesh).
"""
from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

FIXTURE = Path(__file__).parent / "fixtures" / "rendered_hand_crop_224.png"


@pytest.fixture(scope="module")
def tflite_path():
    from training.pretrained.mediapipe_landmark import FetchError, fetch_tflite

    try:
        return fetch_tflite()
    except FetchError as e:
        if e.offline:
            pytest.skip(f"PyPI unreachable, no mediapipe wheel to read: {str(e).splitlines()[0]}")
        raise


@pytest.fixture(scope="module")
def net(tflite_path):
    from training.pretrained.mediapipe_landmark import MediaPipeLandmarkNet

    return MediaPipeLandmarkNet(tflite_path).eval()


def _crop_z(size: int = 224) -> np.ndarray:
    """The fixture as MediaPipe's input: [1, size, size, 3] float32 RGB in [0, 1]."""
    import cv2

    bgr = cv2.imread(str(FIXTURE))
    assert bgr is not None and bgr.shape == (224, 224, 3), FIXTURE
    if size != 224:
        bgr = cv2.resize(bgr, (size, size), interpolation=cv2.INTER_AREA)
    return (cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.float32) / 255)[None]


def _litert(tflite_path, z_nhwc: np.ndarray, keep: tuple[int, ...] = ()):
    """TFLite runtime outputs (in graph order) and the values of tensors ``keep``."""
    from ai_edge_litert.interpreter import Interpreter

    with warnings.catch_warnings():  # preserve_all_tensors warns that it is for debugging: it is
        warnings.simplefilter("ignore")
        interp = Interpreter(model_path=str(tflite_path), num_threads=1,
                             experimental_preserve_all_tensors=bool(keep))
    inp = interp.get_input_details()[0]["index"]
    if tuple(z_nhwc.shape) != tuple(interp.get_input_details()[0]["shape"]):
        interp.resize_tensor_input(inp, list(z_nhwc.shape))
    interp.allocate_tensors()
    interp.set_tensor(inp, np.ascontiguousarray(z_nhwc, np.float32))
    interp.invoke()
    outs = [interp.get_tensor(d["index"]).copy() for d in interp.get_output_details()]
    return outs, {t: interp.get_tensor(t).copy() for t in keep}


def test_graph_encoder_is_the_mediapipe_layout(net):
    from handpose_live.models.mobile import LAYOUTS

    assert net.layout == LAYOUTS["mediapipe"]
    assert net.graph.names[net.encoder_ops.stride16] == "model_1/model/add_5/add"


def test_full_network_matches_tflite_runtime(tflite_path, net):
    z = _crop_z()
    stride16 = net.encoder_ops.stride16
    (landmarks, presence, handedness, world), kept = _litert(tflite_path, z, keep=(stride16,))
    with torch.no_grad():
        zt = torch.from_numpy(z).permute(0, 3, 1, 2)
        out = net(zt)
        feat = net.stride16(zt)

    assert presence.item() > 0.9  # the fixture is a hand MediaPipe is sure of
    lm_err = np.abs(out["landmarks"].numpy().reshape(1, 63) - landmarks).max()
    assert lm_err < 1e-2, f"landmarks differ by {lm_err} px"
    assert abs(out["presence"].item() - presence.item()) < 1e-3
    assert abs(out["handedness"].item() - handedness.item()) < 1e-3
    assert np.abs(out["world"].numpy().reshape(1, 63) - world).max() < 1e-4  # metres
    feat_err = np.abs(feat.permute(0, 2, 3, 1).numpy() - kept[stride16]).max()
    assert feat_err < 1e-3, f"stride-16 features differ by {feat_err}"
    # and the landmarks are where a hand is: inside the crop, wrist below the middle finger's MCP
    xy = out["landmarks"][0, :, :2].numpy()
    assert ((xy > 0) & (xy < 224)).all() and xy[0, 1] > xy[9, 1]


def test_converted_encoder_in_posenet_matches_network_at_128(tflite_path, net):
    from handpose_live.models.posenet import PoseNet, PoseNetConfig
    from training.pretrained.mediapipe_landmark import encoder_state_dict

    model = PoseNet(PoseNetConfig(encoder="mediapipe", input_size=128, width=0.5, refine_stages=1,
                                  side_head=True)).eval()
    encoder_sd = {f"encoder.{k}": v for k, v in encoder_state_dict(tflite_path).items()}
    full = model.state_dict()
    assert set(encoder_sd) == {k for k in full if k.startswith("encoder.")}
    model.load_state_dict({**full, **encoder_sd}, strict=True)

    z = _crop_z(128)
    zt = torch.from_numpy(z).permute(0, 3, 1, 2)
    with torch.no_grad():
        ours = model.encoder(zt - 0.5)[-1]  # our normalisation: rgb / 255 - 0.5
        ref = net.stride16(zt)
    assert ours.shape == (1, 112, 8, 8)
    err = (ours - ref).abs().max().item()
    assert err < 1e-3, f"encoder differs from the network's stride-16 activation by {err}"
    # the network itself at 128 px agrees with the TFLite runtime resized to 128 px
    _, kept = _litert(tflite_path, z, keep=(net.encoder_ops.stride16,))
    assert np.abs(ref.permute(0, 2, 3, 1).numpy() - kept[net.encoder_ops.stride16]).max() < 1e-3
    # with the border: a crop of constant padding value (rgb 0) stays exact
    with torch.no_grad():
        dark = torch.zeros(1, 3, 128, 128)
        assert (model.encoder(dark - 0.5)[-1] - net.stride16(dark)).abs().max().item() < 1e-3


def _make_fixture(seed: int = 7, index: int = 10) -> None:
    """Render the fixture: a RenderedHands sample (one hand) rotated so wrist -> middle MCP points
    up, cropped to 1.6x twice the keypoints' half extent, 224 px."""
    import cv2

    from handpose_live.skeleton import RHD_FROM_USER
    from training.render.dataset import RenderedHands
    from training.render.scene import RenderConfig

    s = RenderedHands(length=index + 1, seed=seed, size=320, config=RenderConfig(two_hands_prob=0.0))[index]
    kp = s["keypoints_2d"][RHD_FROM_USER].astype(np.float64)  # user (MediaPipe) order
    v = kp[9] - kp[0]
    ang = np.arctan2(v[0], -v[1])
    rot = np.array([[np.cos(ang), np.sin(ang)], [-np.sin(ang), np.cos(ang)]])
    centre = (kp.max(0) + kp.min(0)) / 2
    scale = 224 / (1.6 * 2 * np.abs((kp - centre) @ rot.T).max())
    affine = np.concatenate([rot * scale, (112 - rot * scale @ centre)[:, None]], axis=1)
    crop = cv2.warpAffine(s["image_rgb"], affine, (224, 224), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(FIXTURE), cv2.cvtColor(crop, cv2.COLOR_RGB2BGR))
    print(f"wrote {FIXTURE}")


if __name__ == "__main__" and "--make-fixture" in sys.argv:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    _make_fixture()


def test_deeper_encoder_matches_the_network_to_stride_32(tflite_path, net):
    """``mediapipe32``: the graph's blocks read on to stride 32 are that layout, and the converted
    encoder's last features equal the network's own activation there (TFLite runtime)."""
    from handpose_live.models.mobile import LAYOUTS, MobileEncoder
    from training.pretrained.mediapipe_landmark import encoder_ops, encoder_state_dict

    layout, where = encoder_ops(net.graph, max_stride=32)
    assert layout == LAYOUTS["mediapipe32"] and where.stride16 == net.encoder_ops.stride16
    enc = MobileEncoder(layout).eval()
    enc.load_state_dict(encoder_state_dict(tflite_path, "mediapipe32"), strict=True)
    last = where.blocks[-1]["project"]
    out_t = net.graph.ops[last].outputs[0]
    adds = [op for op in net.graph.ops if op.kind == "ADD" and out_t in op.inputs]
    block_out = adds[0].outputs[0] if adds else out_t
    z = _crop_z()
    _, kept = _litert(tflite_path, z, keep=(block_out,))
    with torch.no_grad():
        ours = enc(torch.from_numpy(z).permute(0, 3, 1, 2) - 0.5)[-1]
    assert ours.shape == (1, 192, 7, 7)
    err = np.abs(ours.permute(0, 2, 3, 1).numpy() - kept[block_out]).max()
    assert err < 1e-3, f"stride-32 features differ by {err}"


def test_keypoint_refiner_matches_tflite_runtime(tflite_path):
    """``LandmarkNet`` (the keypoint refiner the app runs) with ``landmark_state_dict``'s weights
    gives the TFLite runtime's landmarks, presence, handedness and world landmarks on our
    normalisation; stored as fp16 (what a model folder holds) it stays within a pixel. Without
    the world head (``world`` "off", the models before it) the weights leave that layer out."""
    from handpose_live.models.landmark import LandmarkConfig, LandmarkNet
    from training.pretrained.mediapipe_landmark import landmark_state_dict

    refiner = LandmarkNet(LandmarkConfig(world="3d")).eval()
    state = landmark_state_dict(tflite_path)
    refiner.load_state_dict(state, strict=True)
    no_world = landmark_state_dict(tflite_path, world=False)
    assert set(state) - set(no_world) == {"world.weight", "world.bias"}
    LandmarkNet().load_state_dict(no_world, strict=True)
    z = _crop_z()
    (landmarks, presence, handedness, world), _ = _litert(tflite_path, z)
    x = torch.from_numpy(z).permute(0, 3, 1, 2) - 0.5
    with torch.no_grad():
        out = refiner(x)
    err = np.abs(out["landmarks"].numpy().reshape(1, 63) - landmarks).max()
    assert err < 1e-2, f"landmarks differ by {err} px"
    assert abs(torch.sigmoid(out["presence"]).item() - presence.item()) < 1e-3
    assert abs(torch.sigmoid(out["handedness"]).item() - handedness.item()) < 1e-3
    world = np.asarray(world).reshape(1, 63)
    assert np.abs(world).max() > 0.01  # a hand-sized output (metres), not zeros
    err = np.abs(out["world"].numpy().reshape(1, 63) - world).max()
    assert err < 1e-4, f"world landmarks differ by {err} m"

    refiner.load_state_dict({k: v.half().float() for k, v in state.items()})
    with torch.no_grad():
        half = refiner(x)["landmarks"]
    assert (half - out["landmarks"]).abs().max().item() < 1.0

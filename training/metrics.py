"""Evaluation metrics of the paper's protocol, plus PA-MPJPE. Numpy in, floats out."""
from __future__ import annotations

import numpy as np

PCK_2D_PX = np.linspace(0, 30, 61)
PCK_3D_MM = np.linspace(0, 50, 101)
PCK_3D_20_50_MM = np.linspace(20, 50, 61)


def end_point_errors(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Euclidean distance per keypoint: ``[N, K, D]`` x2 -> ``[N, K]``."""
    return np.linalg.norm(np.asarray(pred, np.float64) - np.asarray(gt, np.float64), axis=-1)


def pck_curve(errors: np.ndarray, visible: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Fraction of visible keypoints within each threshold, computed per keypoint then averaged
    over keypoints (the paper's protocol). ``errors``/``visible`` ``[N, K]``."""
    errors, visible = np.asarray(errors), np.asarray(visible, bool)
    per_kp = []
    for k in range(errors.shape[1]):
        e = errors[visible[:, k], k]
        if len(e):
            per_kp.append([(e <= t).mean() for t in thresholds])
    if not per_kp:
        return np.zeros(len(thresholds))
    return np.mean(per_kp, axis=0)


def auc(curve: np.ndarray, thresholds: np.ndarray) -> float:
    """Area under a PCK curve, normalised by the threshold range (1.0 = all within the first)."""
    span = thresholds[-1] - thresholds[0]
    if span <= 0:
        return float(curve[0])
    # the trapezoid rule written out (np.trapezoid needs numpy >= 2, np.trapz is gone from it)
    curve, thresholds = np.asarray(curve, float), np.asarray(thresholds, float)
    return float(np.sum((curve[1:] + curve[:-1]) / 2 * np.diff(thresholds)) / span)


def epe_stats(errors: np.ndarray, visible: np.ndarray) -> dict:
    e = np.asarray(errors)[np.asarray(visible, bool)]
    if not len(e):
        return {"mean": float("nan"), "median": float("nan"), "count": 0}
    return {"mean": float(e.mean()), "median": float(np.median(e)), "count": int(len(e))}


def procrustes_align(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Similarity transform (rotation, scale, translation) of ``pred`` ``[K, 3]`` best fitting
    ``gt`` (least squares, Umeyama), applied to ``pred``."""
    mu_p, mu_g = pred.mean(0), gt.mean(0)
    p, g = pred - mu_p, gt - mu_g
    u, s, vt = np.linalg.svd(p.T @ g)
    d = np.sign(np.linalg.det(u @ vt))
    fix = np.diag([1.0, 1.0, d])
    rot = u @ fix @ vt
    scale = (s * np.diag(fix)).sum() / max((p**2).sum(), 1e-12)
    return scale * p @ rot + mu_g


def pa_mpjpe(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Per-sample mean joint error after Procrustes alignment: ``[N, K, 3]`` x2 -> ``[N]``."""
    return np.array([end_point_errors(procrustes_align(p, g), g).mean() for p, g in zip(pred, gt)])


def rotation_errors_deg(pred_xyz: np.ndarray, gt_xyz: np.ndarray, is_right: np.ndarray) -> np.ndarray:
    """The viewpoint error alone: per hand, the geodesic angle (degrees) between the rotations of
    the paper's canonical frame computed from the predicted and the true 3D keypoints (``[N, 21,
    3]``, RHD order; ``is_right`` ``[N]``) - how far the output hand is turned from the true one,
    whatever its shape and scale."""
    import torch

    from handpose_live.canonical import to_canonical

    right = torch.as_tensor(np.asarray(is_right, bool))
    _, r_pred, _ = to_canonical(torch.as_tensor(np.asarray(pred_xyz, np.float64)), right)
    _, r_gt, _ = to_canonical(torch.as_tensor(np.asarray(gt_xyz, np.float64)), right)
    relative = r_pred.transpose(1, 2) @ r_gt
    cos = (relative.diagonal(dim1=1, dim2=2).sum(-1) - 1) / 2
    return np.degrees(np.arccos(np.clip(cos.numpy(), -1.0, 1.0)))

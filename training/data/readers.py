"""Open any reader by name: ``open_reader("rhd", "/data/RHD_published_v2", split="train", image_size=256)``.

Generic splits ``train``/``val`` map onto each data set's own names (RHD and FreiHAND:
training/evaluation; real_hands: split.json's train/val, and dev). ``handfree`` (hand-free crops as
hard negatives), ``negatives=FILE`` (regions a model took for hands, mined from train photos by
``training.mine_negatives``: PoseNet's hard negatives), ``real_curled`` (real_hands train's hands
with curled fingers, to oversample them) and ``real_paste`` (real hands pasted onto them) read the
shared data folder like real_hands (``$HANDPOSE_DATA`` unless ``=ROOT`` is given). ``image_size``
letterboxes every sample to a square so batches of any source collate; None keeps native sizes.
"""
from __future__ import annotations

from pathlib import Path

from torch.utils.data import Dataset

READERS = ("real_hands", "real_curled", "handfree", "negatives", "real_paste", "written", "rhd", "freihand")
_NATIVE_SPLIT = {"train": "training", "val": "evaluation", "training": "training", "evaluation": "evaluation"}


def open_reader(kind: str, root: str | Path | None, split: str = "train", image_size: int | None = None,
                seed: int = 0) -> Dataset:
    """A torch Dataset of sample dicts (training/data/sample.py) for ``kind`` in ``READERS``
    (``seed``: real_paste's, which composes its samples)."""
    if kind == "real_hands":
        from training.data.real_hands import RealHandsDataset

        # training sees every labelled hand of an image; evaluation its own per-image protocol
        return RealHandsDataset(root, split, size=image_size, every_hand=split == "train")
    if kind == "real_curled":  # the real_hands hands with curled fingers, to oversample them in a mix
        from training.data.real_hands import RealHandsDataset

        if split != "train":
            raise ValueError("real_curled oversamples training hands: train only (evaluate on real_hands)")
        return RealHandsDataset(root, split, size=image_size, every_hand=True, curled_only=True)
    if kind == "handfree":
        from training.data.handfree import HandFreeCrops

        return HandFreeCrops(root, split, size=image_size, seed=seed)
    if kind == "negatives":
        from training.data.negatives import MinedNegatives

        if root is None:
            raise ValueError("negatives needs its file: write it as negatives=PATH (python -m training.mine_negatives)")
        if split != "train":
            raise ValueError("negatives were mined from training photos: train only")
        return MinedNegatives(root, size=image_size)
    if kind == "real_paste":
        from training.data.real_paste import RealPaste

        return RealPaste(root, split, size=image_size or 256, seed=seed)
    if kind not in READERS:
        raise ValueError(f"unknown data source {kind!r}; expected render or one of {READERS}")
    if root is None:
        raise ValueError(f"data source {kind!r} needs a folder: write it as {kind}=PATH")
    if kind == "written":
        from training.data.written import WrittenHands

        root = Path(root)
        return WrittenHands(root / split if (root / split / "meta.json").is_file() else root, size=image_size)
    if split not in _NATIVE_SPLIT:
        raise ValueError(f"split must be one of {sorted(_NATIVE_SPLIT)}, got {split!r}")
    if kind == "rhd":
        from training.data.rhd import RHDDataset

        return RHDDataset(root, _NATIVE_SPLIT[split], size=image_size)
    from training.data.freihand import FreiHANDDataset

    return FreiHANDDataset(root, _NATIVE_SPLIT[split], size=image_size)

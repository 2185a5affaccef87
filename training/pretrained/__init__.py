"""Pretrained starts: weights of other projects converted into our networks' encoders.

Each converter returns a state dict of ``handpose_live.models.mobile.MobileEncoder`` for its
layout (``lite0``, ``mediapipe``), with the source's input convention folded into the stem.
Training-time only (pyproject.toml's extra ``train``); the app loads our own safetensors.
"""

"""Synthetic RHD-like hand renderer: a rigged glTF hand, posed, skinned and rasterised on the CPU.

Entry points: ``scene.HandRenderer`` (one sample per seed), ``dataset.RenderedHands`` /
``dataset.StreamedHands`` (torch datasets), ``python -m training.render.write`` (to disk) and
``python -m training.render.benchmark`` (samples/s).
"""

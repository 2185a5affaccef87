"""Skin tones, materials and Blinn-Phong shading with random lights (linear RGB in [0, 1])."""
from __future__ import annotations

import numpy as np

# Skin tones across the human range, light to dark (sRGB 0-255), loosely following the
# Fitzpatrick / Monk scales; samples interpolate between neighbours.
SKIN_TONES_SRGB = np.array([
    (246, 224, 206), (238, 206, 179), (226, 185, 152), (212, 165, 125), (190, 140, 100),
    (164, 113, 78), (134, 88, 60), (104, 68, 47), (78, 52, 38), (58, 40, 31),
], np.float64)


def srgb_to_linear(c: np.ndarray) -> np.ndarray:
    c = np.asarray(c, np.float64)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(c: np.ndarray) -> np.ndarray:
    c = np.clip(c, 0.0, 1.0)
    return np.where(c <= 0.0031308, c * 12.92, 1.055 * c ** (1 / 2.4) - 0.055)


def sample_skin_linear(rng: np.random.Generator) -> np.ndarray:
    """One skin albedo (3,) in linear RGB, anywhere on the light-to-dark range, with hue jitter."""
    x = rng.uniform(0, len(SKIN_TONES_SRGB) - 1)
    i = min(int(x), len(SKIN_TONES_SRGB) - 2)
    srgb = SKIN_TONES_SRGB[i] * (1 - (x - i)) + SKIN_TONES_SRGB[i + 1] * (x - i)
    srgb = srgb * rng.uniform(0.93, 1.07, 3) * rng.uniform(0.9, 1.1)
    return srgb_to_linear(np.clip(srgb / 255.0, 0, 1))


def vertex_albedo(rng: np.random.Generator, skin: np.ndarray, palm_side: np.ndarray,
                  nail: np.ndarray | None = None) -> np.ndarray:
    """Per-vertex albedo (V,3): blotchy variation, a lighter, pinker palm (much more so on darker
    skin) and pinkish-white fingernails.

    ``palm_side`` (V,) in [0, 1]: how much each vertex faces the palm side; ``nail`` (V,) in
    [0, 1]: how much it lies on a nail.
    """
    n = len(palm_side)
    blotch = 1.0 + rng.normal(0, 0.05, (n, 1))
    palm_tint = np.array([0.75, 0.55, 0.5]) * 0.9
    # a palm differs from the back on every skin tone (pinker, less tanned), most on dark skin
    lightness = rng.uniform(0.1, 0.25) + 0.5 * max(0.0, 0.35 - skin.mean()) / 0.35
    mix = (palm_side * lightness)[:, None]
    palm_colour = palm_tint[None] * max(skin.mean() * 2.0, 0.3)
    albedo = skin[None] * (1 - mix) + palm_colour * mix
    if nail is not None:
        nail_colour = np.array([0.78, 0.58, 0.55]) * rng.uniform(0.8, 1.1)
        strength = rng.uniform(0.45, 0.8)
        k = (nail * strength)[:, None]
        albedo = albedo * (1 - k) + nail_colour[None] * k
    return np.clip(albedo * blotch, 0, 1)


def sample_lights(rng: np.random.Generator) -> dict:
    """Ambient colour and 1-3 directional lights (camera frame, pointing from the surface to the light)."""
    count = int(rng.integers(1, 4))
    dirs = rng.normal(0, 1, (count, 3))
    dirs[:, 2] = -np.abs(dirs[:, 2]) - rng.uniform(0.2, 1.2, count)  # mostly from the camera side
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    warmth = rng.uniform(-0.15, 0.15, count)
    colours = np.stack([1 + warmth, np.ones(count), 1 - warmth], 1) * rng.uniform(0.2, 1.0, (count, 1))
    ambient = rng.uniform(0.1, 0.4) * rng.uniform(0.9, 1.1, 3)
    total = ambient.mean() + colours.mean(axis=1).sum()
    gain = rng.uniform(0.75, 1.3) / total  # keep the brightest lit skin near 1; exposure jitter comes later
    colours, ambient = colours * gain, ambient * gain
    return {"dirs": dirs, "colours": colours, "ambient": ambient,
            "shininess": rng.uniform(8, 40), "specular": rng.uniform(0.02, 0.25)}


def shade(albedo: np.ndarray, normals: np.ndarray, positions_m: np.ndarray, lights: dict,
          specular_scale: float = 1.0) -> np.ndarray:
    """Blinn-Phong colour (P,3) in linear RGB for unit ``normals`` (P,3) at camera-frame points."""
    view = -positions_m / np.sqrt(np.einsum("ij,ij->i", positions_m, positions_m) + 1e-18)[:, None]
    facing = np.einsum("ij,ij->i", normals, view)
    normals = np.where((facing < 0)[:, None], -normals, normals)  # light the inside of open tubes too
    colour = albedo * lights["ambient"].astype(np.float32)[None]
    spec_gain = (lights["specular"] * np.asarray(specular_scale, np.float32))
    for d, c in zip(lights["dirs"].astype(np.float32), lights["colours"].astype(np.float32)):
        lambert = np.maximum(normals @ d, 0)[:, None]
        half = view + d[None]
        half /= np.sqrt(np.einsum("ij,ij->i", half, half) + 1e-18)[:, None]
        spec = np.maximum(np.einsum("ij,ij->i", normals, half), 0) ** np.float32(lights["shininess"])
        colour = colour + albedo * lambert * c[None] + (spec_gain * spec)[:, None] * c[None]
    return colour

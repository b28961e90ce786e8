"""Hendrycks and Dietterich's common corruptions (CIFAR-10-C), on batches of uint8 NHWC images.

Parameters are those of CIFAR-10-C (`make_cifar_c.py`, ICLR 2019), severities 1 to 5, in
pixels whatever the image size (they were chosen for 32 x 32 images); the fog map is the next
power of two at least as large as the image, as in the reference. Every random draw comes from
the `rng` passed in, so a corrupted set is a function of its seed. Results are truncated to
uint8, as the reference's `np.uint8(...)` does. Grey images (one channel) get the same
corruption per channel; brightness then adds to the grey value (an HSV value with no hue).
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from matplotlib.colors import hsv_to_rgb, rgb_to_hsv
from PIL import Image
from scipy import ndimage

from tradeoffs.registry import CORRUPTIONS

PARAMS: dict[str, tuple] = {
    "gaussian_noise": (0.04, 0.06, 0.08, 0.09, 0.10),  # std on [0, 1]
    "shot_noise": (500, 250, 100, 75, 50),  # photons per unit intensity
    "impulse_noise": (0.01, 0.02, 0.03, 0.05, 0.07),  # salt-and-pepper fraction
    "defocus_blur": ((0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (1, 0.2), (1.5, 0.1)),  # radius, alias
    "motion_blur": ((6, 1), (6, 1.5), (6, 2), (8, 2), (9, 2.5)),  # radius, sigma
    "brightness": (0.05, 0.1, 0.15, 0.2, 0.3),  # added to the HSV value
    "contrast": (0.75, 0.5, 0.4, 0.3, 0.15),  # factor on the deviation from the mean
    "fog": ((0.2, 3), (0.5, 3), (0.75, 2.5), (1, 2), (1.5, 1.75)),  # strength, wibble decay
    "jpeg_compression": (80, 65, 58, 50, 40),  # JPEG quality
    "pixelate": (0.95, 0.9, 0.85, 0.75, 0.65),  # down-scaling factor
}


def _unit(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float64) / 255.0


def gaussian_noise(x: np.ndarray, c: float, rng: np.random.Generator) -> np.ndarray:
    return np.clip(_unit(x) + rng.normal(scale=c, size=x.shape), 0, 1) * 255


def shot_noise(x: np.ndarray, c: float, rng: np.random.Generator) -> np.ndarray:
    return np.clip(rng.poisson(_unit(x) * c) / c, 0, 1) * 255


def impulse_noise(x: np.ndarray, c: float, rng: np.random.Generator) -> np.ndarray:
    """Salt and pepper on a fraction `c` of the values, half each (scikit-image's `s&p`)."""
    out = _unit(x)
    flipped = rng.random(x.shape) < c
    salted = rng.random(x.shape) < 0.5
    out[flipped & salted] = 1.0
    out[flipped & ~salted] = 0.0
    return out * 255


def disk_kernel(radius: float, alias_blur: float) -> np.ndarray:
    """The reference's anti-aliased disk: a normalised disk on a grid of at least 17 x 17,
    smoothed by a 3 x 3 Gaussian (cv2.GaussianBlur with ksize 3), trimmed to its support."""
    half = max(8, int(np.ceil(radius)))
    grid = np.arange(-half, half + 1)
    xx, yy = np.meshgrid(grid, grid)
    disk = (xx**2 + yy**2 <= radius**2).astype(np.float64)
    disk /= disk.sum()
    kernel = ndimage.gaussian_filter(disk, sigma=alias_blur, mode="mirror", truncate=1 / alias_blur)
    rows = np.flatnonzero(kernel.any(axis=1))
    return kernel[rows[0] : rows[-1] + 1, rows[0] : rows[-1] + 1]


def defocus_blur(x: np.ndarray, c: tuple, rng: np.random.Generator) -> np.ndarray:
    radius, alias_blur = c
    kernel = disk_kernel(radius, alias_blur)
    # cv2.filter2D's default border (reflect 101) is scipy's "mirror".
    out = ndimage.correlate(_unit(x), kernel[None, :, :, None], mode="mirror")
    return np.clip(out, 0, 1) * 255


def motion_offsets(radius: int, sigma: float, angle: float) -> tuple[np.ndarray, np.ndarray]:
    """ImageMagick's motion blur (what the reference calls through Wand): a one-sided Gaussian
    of `2 * radius + 1` taps along `angle` degrees; returns the taps' (dy, dx) and weights."""
    width = 2 * radius + 1
    weights = np.exp(-(np.arange(width) ** 2) / (2 * sigma**2))
    steps = np.arange(width)
    dy = -np.ceil(steps * np.sin(np.deg2rad(angle)) - 0.5).astype(int)
    dx = -np.ceil(steps * np.cos(np.deg2rad(angle)) - 0.5).astype(int)
    return np.stack([dy, dx], axis=1), weights / weights.sum()


def motion_blur(x: np.ndarray, c: tuple, rng: np.random.Generator) -> np.ndarray:
    """Each image blurred along its own angle, uniform in [-45, 45] degrees; edges repeat."""
    radius, sigma = c
    angles = rng.uniform(-45, 45, size=len(x))
    pad = 2 * radius + 1
    padded = np.pad(x.astype(np.float64), ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="edge")
    height, width = x.shape[1:3]
    out = np.zeros(x.shape, dtype=np.float64)
    for i, angle in enumerate(angles):
        offsets, weights = motion_offsets(radius, sigma, angle)
        for (dy, dx), weight in zip(offsets, weights, strict=True):
            top, left = pad - dy, pad - dx
            out[i] += weight * padded[i, top : top + height, left : left + width]
    return np.clip(out, 0, 255)


def brightness(x: np.ndarray, c: float, rng: np.random.Generator) -> np.ndarray:
    out = _unit(x)
    if x.shape[-1] == 3:
        hsv = rgb_to_hsv(out)
        hsv[..., 2] = np.clip(hsv[..., 2] + c, 0, 1)
        out = hsv_to_rgb(hsv)
    else:
        out = out + c
    return np.clip(out, 0, 1) * 255


def contrast(x: np.ndarray, c: float, rng: np.random.Generator) -> np.ndarray:
    out = _unit(x)
    means = out.mean(axis=(1, 2), keepdims=True)
    return np.clip((out - means) * c + means, 0, 1) * 255


def plasma_fractal(
    count: int, mapsize: int, wibbledecay: float, rng: np.random.Generator
) -> np.ndarray:
    """`count` diamond-square height maps of side `mapsize` (a power of two) in [0, 1], as the
    reference's `plasma_fractal`, drawn from `rng`."""
    maps = np.zeros((count, mapsize, mapsize))
    step, wibble = mapsize, 100.0

    def wibbled_mean(array: np.ndarray) -> np.ndarray:
        return array / 4 + wibble * rng.uniform(-wibble, wibble, array.shape)

    while step >= 2:
        half = step // 2
        corners = maps[:, 0:mapsize:step, 0:mapsize:step]
        square = corners + np.roll(corners, -1, axis=1)
        square += np.roll(square, -1, axis=2)
        maps[:, half:mapsize:step, half:mapsize:step] = wibbled_mean(square)
        centres = maps[:, half:mapsize:step, half:mapsize:step]
        corners = maps[:, 0:mapsize:step, 0:mapsize:step]
        left = centres + np.roll(centres, 1, axis=1) + corners + np.roll(corners, -1, axis=2)
        maps[:, 0:mapsize:step, half:mapsize:step] = wibbled_mean(left)
        top = centres + np.roll(centres, 1, axis=2) + corners + np.roll(corners, -1, axis=1)
        maps[:, half:mapsize:step, 0:mapsize:step] = wibbled_mean(top)
        step //= 2
        wibble /= wibbledecay
    maps -= maps.min(axis=(1, 2), keepdims=True)
    return maps / maps.max(axis=(1, 2), keepdims=True)


def fog(x: np.ndarray, c: tuple, rng: np.random.Generator) -> np.ndarray:
    strength, decay = c
    height, width = x.shape[1:3]
    mapsize = 1 << (max(height, width) - 1).bit_length()
    out = _unit(x)
    peak = out.max(axis=(1, 2, 3), keepdims=True)
    out += strength * plasma_fractal(len(x), mapsize, decay, rng)[:, :height, :width, None]
    return np.clip(out * peak / (peak + strength), 0, 1) * 255


def _per_image(x: np.ndarray, change: Callable[[Image.Image], Image.Image]) -> np.ndarray:
    grey = x.shape[-1] == 1
    out = np.empty_like(x)
    for i, image in enumerate(x):
        changed = np.asarray(change(Image.fromarray(image[..., 0] if grey else image)))
        out[i] = changed[..., None] if grey else changed
    return out


def jpeg_compression(x: np.ndarray, c: int, rng: np.random.Generator) -> np.ndarray:
    def compress(image: Image.Image) -> Image.Image:
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=c)
        return Image.open(buffer)

    return _per_image(x, compress)


def pixelate(x: np.ndarray, c: float, rng: np.random.Generator) -> np.ndarray:
    height, width = x.shape[1:3]
    small = (max(1, int(width * c)), max(1, int(height * c)))
    return _per_image(
        x, lambda image: image.resize(small, Image.BOX).resize((width, height), Image.BOX)
    )


FUNCTIONS: dict[str, Callable[[np.ndarray, object, np.random.Generator], np.ndarray]] = {
    "gaussian_noise": gaussian_noise,
    "shot_noise": shot_noise,
    "impulse_noise": impulse_noise,
    "defocus_blur": defocus_blur,
    "motion_blur": motion_blur,
    "brightness": brightness,
    "contrast": contrast,
    "fog": fog,
    "jpeg_compression": jpeg_compression,
    "pixelate": pixelate,
}


def corrupt(x: np.ndarray, corruption: str, severity: int, seed: int) -> np.ndarray:
    """`x` (uint8 NHWC) under `corruption` at `severity` (1-5); the same seed, the same images.

    Each (corruption, severity) draws from its own stream of `seed`."""
    if corruption not in FUNCTIONS:
        raise ValueError(
            f"unknown corruption {corruption!r}; choose from: {', '.join(CORRUPTIONS)}"
        )
    if not 1 <= severity <= 5:
        raise ValueError(f"severity {severity} is outside 1..5")
    if x.dtype != np.uint8 or x.ndim != 4:
        raise ValueError(f"expected uint8 NHWC images, got {x.dtype}{x.shape}")
    rng = np.random.default_rng([seed, CORRUPTIONS.index(corruption), severity])
    out = FUNCTIONS[corruption](x, PARAMS[corruption][severity - 1], rng)
    return out if out.dtype == np.uint8 else np.clip(out, 0, 255).astype(np.uint8)

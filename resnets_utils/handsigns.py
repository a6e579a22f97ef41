"""Draw the course's own SIGNS-compatible hand signs.

Each picture is a hand showing 0 to 5 raised fingers; the label is the number of
raised fingers. Pictures are rendered procedurally (no photographs, no download):
a palm, a forearm, five fingers that are raised or folded, shaded like cylinders
so that adjacent fingers stay distinguishable, on a varied background, under
varied light, with sensor noise.

Everything is drawn from ``numpy.random.Generator`` streams derived from one seed,
so the same seed and package version give the same pixels.
"""

from __future__ import annotations

import numpy as np

IMAGE_SIZE = 64
NUM_CLASSES = 6

# Raised-finger combinations for each count. Fingers: 0 thumb, 1 index, 2 middle,
# 3 ring, 4 little. Several combinations per count, as people sign them differently.
GESTURES: dict[int, tuple[tuple[int, ...], ...]] = {
    0: ((),),
    1: ((1,),),
    2: ((1, 2), (1, 2), (0, 1)),
    3: ((1, 2, 3), (0, 1, 2)),
    4: ((1, 2, 3, 4),),
    5: ((0, 1, 2, 3, 4),),
}

# Skin tones from light to dark (RGB in 0..1); a tone is drawn between two neighbours.
_SKIN_TONES = np.array(
    [
        [0.98, 0.84, 0.74],
        [0.93, 0.74, 0.60],
        [0.82, 0.60, 0.45],
        [0.66, 0.45, 0.31],
        [0.48, 0.32, 0.21],
        [0.34, 0.22, 0.15],
    ]
)

# Finger bases along the top of the palm (hand units, palm half-width = 0.5),
# and relative finger lengths: index, middle, ring, little.
_FINGER_X = np.array([-0.36, -0.12, 0.12, 0.36])
_FINGER_LENGTH = np.array([0.88, 1.0, 0.92, 0.70])

# Pixel centres as fractions of the picture: rows (y, downwards) and columns (x).
_PIXEL_GRID = (np.mgrid[0:IMAGE_SIZE, 0:IMAGE_SIZE].astype(np.float64) + 0.5) / IMAGE_SIZE


def generate_split(n_per_class: int, seed: int | tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Draw a balanced, shuffled split of hand-sign pictures.

    Args:
        n_per_class: pictures of each of the six classes.
        seed: seed (or tuple of seeds) of the whole split; equal seeds give equal pictures.

    Returns:
        ``(images, labels)``: uint8 ``(6 * n_per_class, 64, 64, 3)`` and int64
        ``(6 * n_per_class,)``.
    """
    labels = np.repeat(np.arange(NUM_CLASSES, dtype=np.int64), n_per_class)
    sequence = np.random.SeedSequence(seed)
    order_seed, *image_seeds = sequence.spawn(len(labels) + 1)
    labels = np.random.default_rng(order_seed).permutation(labels)
    images = np.empty((len(labels), IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
    for i, (label, image_seed) in enumerate(zip(labels, image_seeds, strict=True)):
        images[i] = draw_hand_sign(int(label), np.random.default_rng(image_seed))
    return images, labels


def draw_hand_sign(count: int, rng: np.random.Generator) -> np.ndarray:
    """Draw one 64x64 RGB uint8 picture of a hand showing ``count`` raised fingers."""
    if not 0 <= count < NUM_CLASSES:
        raise ValueError(f"count must be 0..{NUM_CLASSES - 1}, got {count}")
    options = GESTURES[count]
    return draw_gesture(options[int(rng.random() * len(options))], rng)


def draw_gesture(raised: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Draw a hand with the given fingers raised (0 thumb, 1 index, ... 4 little).

    Every random choice is drawn whatever the gesture, so one seed gives the same
    hand, pose and scene for any gesture.
    """
    skin = _skin_tone(rng)
    canvas = _background(rng, skin)
    hand_x, hand_y, pixel = _hand_coordinates(rng)
    for distance, shade, colour in _hand_parts(hand_x, hand_y, set(raised), skin, rng):
        # Anti-aliasing: a pixel is covered in proportion to how far inside the
        # edge its centre lies, measured in pixels.
        coverage = np.clip(0.5 - distance / pixel, 0, 1)[..., None]
        canvas += coverage * (colour * shade[..., None] - canvas)

    image = _lighting(canvas, rng)
    image += rng.normal(0.0, rng.uniform(0.005, 0.035), image.shape)
    return np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)


def _skin_tone(rng: np.random.Generator) -> np.ndarray:
    position = rng.uniform(0, len(_SKIN_TONES) - 1)
    low = int(position)
    high = min(low + 1, len(_SKIN_TONES) - 1)
    tone = _SKIN_TONES[low] + (position - low) * (_SKIN_TONES[high] - _SKIN_TONES[low])
    return np.clip(tone * rng.uniform(0.95, 1.05, 3), 0, 1)


def _background(rng: np.random.Generator, skin: np.ndarray) -> np.ndarray:
    """A plain, gradient or textured background that contrasts with the skin."""
    first, second = _contrasting_colour(rng, skin), _contrasting_colour(rng, skin)
    y, x = _PIXEL_GRID
    kind = rng.integers(3)
    if kind == 0:  # plain wall
        weight = np.zeros_like(x)
    elif kind == 1:  # linear gradient at any angle
        angle = rng.uniform(0, 2 * np.pi)
        weight = np.clip(0.5 + (x - 0.5) * np.cos(angle) + (y - 0.5) * np.sin(angle), 0, 1)
    else:  # blotchy texture with faint, broad stripes; finger-wide stripes would look like fingers
        angle = rng.uniform(0, np.pi)
        stripes = 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(1.5, 3.5) * (x * np.cos(angle) + y * np.sin(angle)))
        weight = 0.3 * stripes + 0.7 * _smooth_noise(rng, cells=5)
    return first + weight[..., None] * (second - first)


def _contrasting_colour(rng: np.random.Generator, skin: np.ndarray) -> np.ndarray:
    # Rejection sampling keeps the hand readable; 50 tries always suffice in
    # practice, and the last candidate is pushed away from the skin otherwise.
    for _ in range(50):
        colour = _muted_colour(rng)
        if np.linalg.norm(colour - skin) > 0.45:
            return colour
    return np.clip(1.0 - skin, 0, 1)


def _muted_colour(rng: np.random.Generator) -> np.ndarray:
    """A random colour, partly desaturated as walls and clothes mostly are."""
    colour = rng.uniform(0.0, 1.0, 3)
    grey = colour.mean()
    return grey + rng.uniform(0.25, 0.8) * (colour - grey)


def _smooth_noise(rng: np.random.Generator, cells: int) -> np.ndarray:
    """Value noise: a coarse random grid, bilinearly upsampled to the canvas."""
    coarse = rng.uniform(0, 1, (cells + 1, cells + 1))
    position = np.linspace(0, cells, IMAGE_SIZE, endpoint=False)
    index = position.astype(int)
    frac = position - index
    rows = coarse[index] * (1 - frac)[:, None] + coarse[index + 1] * frac[:, None]
    return rows[:, index] * (1 - frac) + rows[:, index + 1] * frac


def _hand_coordinates(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float]:
    """Map every pixel to hand coordinates (palm centre at 0, fingers up).

    The hand is placed with a random rotation (±30°), scale, position and side
    (left or right hand). Also returns the size of one pixel in hand units.
    """
    y, x = _PIXEL_GRID
    angle = np.deg2rad(rng.uniform(-30, 30))
    palm_width = rng.uniform(0.24, 0.32)  # as a fraction of the picture width
    centre_x = 0.5 + rng.uniform(-0.09, 0.09)
    centre_y = 0.62 + rng.uniform(-0.07, 0.07)  # the palm sits low, fingers reach up
    dx, dy = x - centre_x, centre_y - y  # image y grows downwards, hand y upwards
    cos, sin = np.cos(angle), np.sin(angle)
    hand_x = (cos * dx + sin * dy) / palm_width
    hand_y = (-sin * dx + cos * dy) / palm_width
    if rng.random() < 0.5:
        hand_x = -hand_x
    return hand_x, hand_y, 1.0 / (IMAGE_SIZE * palm_width)


def _hand_parts(hand_x, hand_y, raised, skin, rng):
    """Yield ``(signed distance, shade, colour)`` for each part, back to front.

    Distances are in hand units, negative inside the part.
    """
    # Forearm, sometimes in a sleeve.
    distance, shade = _capsule(hand_x, hand_y, (0.0, -0.3), (0.0, -4.0), rng.uniform(0.34, 0.40))
    yield distance, shade, skin
    sleeve_start, sleeve_colour = rng.uniform(-1.4, -0.9), _muted_colour(rng)
    if rng.random() < 0.5:
        yield np.maximum(distance, hand_y - sleeve_start), shade, sleeve_colour

    # Palm: a rounded square, lit from the middle.
    half_width, half_height = 0.5, rng.uniform(0.50, 0.58)
    radius = (np.abs(hand_x / half_width) ** 3 + np.abs(hand_y / half_height) ** 3) ** (1 / 3)
    # (radius - 1) * half_width approximates the distance to the edge near it.
    yield (radius - 1) * half_width, 0.72 + 0.28 * np.sqrt(np.clip(1 - radius**2, 0, 1)), skin

    finger_radius = rng.uniform(0.10, 0.125)
    length_scale = rng.uniform(0.85, 1.15)
    spread = np.deg2rad(rng.uniform(2, 12))
    top = half_height - 0.08
    for i in range(4):
        base = (_FINGER_X[i], top)
        angle = (i - 1.5) * spread + np.deg2rad(rng.normal(0, 3))
        length = _FINGER_LENGTH[i] * length_scale * rng.uniform(0.92, 1.08)
        if i + 1 in raised:
            tip = (base[0] + length * np.sin(angle), base[1] + length * np.cos(angle))
        else:  # folded: only the knuckle shows above the palm
            tip = (base[0], top - 0.22)
            base = (base[0], top + 0.06)
        yield *_capsule(hand_x, hand_y, base, tip, finger_radius), skin

    thumb_base = (-0.42, -0.22)
    angle = np.deg2rad(rng.uniform(35, 65))
    length = rng.uniform(0.55, 0.72) * length_scale
    folded_tip = (rng.uniform(-0.05, 0.15), rng.uniform(0.0, 0.15))
    if 0 in raised:  # out to the side and up
        thumb_tip = (thumb_base[0] - length * np.sin(angle), thumb_base[1] + length * np.cos(angle))
    else:  # folded across the palm
        thumb_tip = folded_tip
    yield *_capsule(hand_x, hand_y, thumb_base, thumb_tip, finger_radius * 1.2), skin


def _capsule(x, y, start, end, radius):
    """Signed distance and cylinder shading of a segment from ``start`` to ``end``."""
    (x0, y0), (x1, y1) = start, end
    along_x, along_y = x1 - x0, y1 - y0
    t = np.clip(((x - x0) * along_x + (y - y0) * along_y) / (along_x**2 + along_y**2), 0, 1)
    distance = np.hypot(x - (x0 + t * along_x), y - (y0 + t * along_y))
    # Darker at the rim, like a lit cylinder: neighbouring fingers stay apart.
    shade = 0.62 + 0.38 * np.sqrt(np.clip(1 - (distance / radius) ** 2, 0, 1))
    return distance - radius, shade


def _lighting(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Uneven light: overall exposure, a brightness ramp and a colour cast."""
    y, x = (np.mgrid[0:IMAGE_SIZE, 0:IMAGE_SIZE] + 0.5) / IMAGE_SIZE
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (x - 0.5) * np.cos(angle) + (y - 0.5) * np.sin(angle)
    gain = rng.uniform(0.75, 1.1) * (1 + rng.uniform(0, 0.5) * ramp)
    cast = rng.uniform(0.9, 1.1, 3)
    return image * gain[..., None] * cast

"""Draw the course's own SIGNS-compatible hand signs, as a camera could have taken them.

Each picture is a hand showing 0 to 5 raised fingers; the label is the number of raised
fingers. Pictures are rendered procedurally (no photographs, no download):

- a forearm entering from the edge, a palm, fingers that are raised, curled into the palm,
  or (for 0) curled round to meet the thumb in an "O";
- every part shaded as a curved surface under one light (diffuse, a soft highlight, redder
  shadows, darker where parts overlap), with skin tones and blotches that vary;
- the hand's soft shadow on the wall behind it; plain walls, painted walls, blurred rooms;
- camera effects: focus blur, exposure and white balance, sensor noise, JPEG compression.

Everything is drawn from ``numpy.random.Generator`` streams derived from one seed, so the
same seed and package version give the same pixels.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

# Written into the data files: a data folder or a model made by another version is remade.
GENERATOR_VERSION = 2
IMAGE_SIZE = 64
NUM_CLASSES = 6

# Raised-finger combinations for each count. Fingers: 0 thumb, 1 index, 2 middle, 3 ring,
# 4 little. Repeated entries are drawn more often: the way most people sign the count first.
GESTURES: dict[int, tuple[tuple[int, ...], ...]] = {
    0: ((),),
    1: ((1,),),
    2: ((1, 2), (1, 2), (1, 2), (1, 2), (0, 1)),
    3: ((0, 1, 2), (0, 1, 2), (0, 1, 2), (1, 2, 3)),
    4: ((1, 2, 3, 4),),
    5: ((0, 1, 2, 3, 4),),
}
RING_SHARE = 0.8  # a 0 is mostly the fingertips meeting the thumb in an "O", else a fist

# Skin tones from light to dark (RGB in 0..1); a tone is drawn between two neighbours.
_SKIN_TONES = np.array(
    [
        [0.96, 0.80, 0.70],
        [0.90, 0.70, 0.57],
        [0.80, 0.58, 0.44],
        [0.66, 0.45, 0.32],
        [0.48, 0.32, 0.22],
        [0.34, 0.22, 0.15],
    ]
)
_PALM_TINT = np.array([0.95, 0.74, 0.64])  # palms are lighter and pinker than the back of a hand

# Finger bases along the knuckles (hand units: the palm is 1 wide), and lengths: index, middle, ring, little.
_FINGER_X = np.array([-0.36, -0.12, 0.12, 0.36])
_FINGER_LENGTH = np.array([0.86, 0.96, 0.89, 0.70])
_FINGER_RADIUS = np.array([0.12, 0.125, 0.118, 0.1])

# Pixel centres as fractions of the picture: rows (y, downwards) and columns (x).
# float32 throughout: twice as fast as float64, and far finer than the uint8 pixels.
_PIXEL_GRID = ((np.mgrid[0:IMAGE_SIZE, 0:IMAGE_SIZE] + 0.5) / IMAGE_SIZE).astype(np.float32)


def generate_split(
    n_per_class: int, seed: int | tuple[int, ...], workers: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Draw a balanced, shuffled split of hand-sign pictures.

    Args:
        n_per_class: pictures of each of the six classes.
        seed: seed (or tuple of seeds) of the whole split; equal seeds give equal pictures.
        workers: processes drawing at once (default: one per core; 1 draws in this process).
            Each picture has its own seed, so the pixels do not depend on it.

    Returns:
        ``(images, labels)``: uint8 ``(6 * n_per_class, 64, 64, 3)`` and int64
        ``(6 * n_per_class,)``.
    """
    labels = np.repeat(np.arange(NUM_CLASSES, dtype=np.int64), n_per_class)
    sequence = np.random.SeedSequence(seed)
    order_seed, *image_seeds = sequence.spawn(len(labels) + 1)
    labels = np.random.default_rng(order_seed).permutation(labels)
    workers = min(workers or os.cpu_count() or 1, len(labels) // _PICTURES_PER_WORKER_AT_LEAST or 1)
    if workers > 1:
        images = _drawn_in_processes(labels, image_seeds, workers)
        if images is not None:
            return images, labels
    return _drawn(labels, image_seeds), labels


_PICTURES_PER_WORKER_AT_LEAST = 200  # fewer: starting a Python process (numpy's import) is not worth it
_RUN_AS_MAIN = "import runpy, sys; runpy.run_path(sys.argv[1], run_name='__main__')"
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")


def _drawn(labels, image_seeds) -> np.ndarray:
    images = np.empty((len(labels), IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
    for i, (label, image_seed) in enumerate(zip(labels, image_seeds, strict=True)):
        images[i] = draw_hand_sign(int(label), np.random.default_rng(image_seed))
    return images


def _drawn_in_processes(labels, image_seeds, workers: int) -> np.ndarray | None:
    """The pictures drawn by ``workers`` Python processes, or None when processes cannot start here.

    Each is a fresh Python running this very file (not multiprocessing, which would run the
    caller's own script again in every process; not the installed package, which may be another
    version of the generator) given its share of labels and seeds on stdin.
    """
    import pickle
    import subprocess
    import sys

    environment = {
        **os.environ,
        # One core each: NumPy's BLAS would start a thread per core in every process and slow them all.
        **dict.fromkeys(_THREAD_VARIABLES, "1"),
    }
    chunks = np.array_split(np.arange(len(labels)), workers)
    processes = []
    try:
        for chunk in chunks:
            process = subprocess.Popen(
                [sys.executable, "-c", _RUN_AS_MAIN, str(Path(__file__).resolve())],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=environment,
            )  # fmt: skip
            processes.append(process)
            process.stdin.write(pickle.dumps((labels[chunk], [image_seeds[i] for i in chunk])))
            process.stdin.close()
        parts = []
        for process in processes:
            output = process.stdout.read()
            if process.wait() != 0:
                return None
            parts.append(pickle.loads(output))
        return np.concatenate(parts)
    except (OSError, pickle.UnpicklingError, EOFError):
        return None  # e.g. a sandbox that forbids new processes: drawn in this process instead
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
            process.wait()


def _draw_from_stdin() -> None:
    """The worker of ``_drawn_in_processes``: pickled (labels, seeds) in, pickled pictures out."""
    import pickle
    import sys

    labels, image_seeds = pickle.loads(sys.stdin.buffer.read())
    sys.stdout.buffer.write(pickle.dumps(_drawn(labels, image_seeds), protocol=pickle.HIGHEST_PROTOCOL))


def draw_hand_sign(count: int, rng: np.random.Generator) -> np.ndarray:
    """Draw one 64x64 RGB uint8 picture of a hand showing ``count`` raised fingers."""
    if not 0 <= count < NUM_CLASSES:
        raise ValueError(f"count must be 0..{NUM_CLASSES - 1}, got {count}")
    options = GESTURES[count]
    raised = options[int(rng.random() * len(options))]
    ring = count == 0 and rng.random() < RING_SHARE
    return draw_gesture(raised, rng, ring=ring)


def draw_gesture(raised: tuple[int, ...], rng: np.random.Generator, ring: bool = False) -> np.ndarray:
    """Draw a hand with the given fingers raised (0 thumb, 1 index, ... 4 little).

    ``ring``: with no finger raised, curl them round to meet the thumb in an "O" instead of
    a fist. Every random choice is drawn whatever the gesture, so one seed gives the same
    hand, pose and scene for any gesture.
    """
    skin = _skin_tone(rng)
    canvas = _background(rng, skin)
    hand_x, hand_y, pixel, angle, mirrored = _hand_coordinates(rng)
    light = _light(rng, angle, mirrored)
    blotches = 1 + rng.uniform(0.03, 0.09) * (_smooth_noise(rng, cells=6) - 0.5)
    parts = _hand_parts(hand_x, hand_y, set(raised), ring, skin, rng)
    # Deferred shading: the parts, back to front, paint their normal and colour; one light
    # then shades the hand. Anti-aliasing: a pixel is covered in proportion to how far inside
    # the edge its centre lies, measured in pixels.
    shape = hand_x.shape
    hand, occlusion = np.zeros(shape, np.float32), np.ones(shape, np.float32)
    normal, albedo = np.zeros((3, *shape), np.float32), np.zeros((*shape, 3), np.float32)
    for distance, part_normal, colour in parts:
        in_pixels = distance / pixel
        coverage = np.clip(0.5 - in_pixels, 0, 1)
        # Where a part lies over another, the one below is darker along its edge.
        occlusion *= 1 - 0.35 * hand * np.exp(-np.clip(in_pixels, 0, None) / 1.5) * (in_pixels > 0)
        occlusion += coverage * (1 - occlusion)
        normal += coverage * (part_normal - normal)
        albedo += coverage[..., None] * (colour.astype(np.float32) - albedo)
        hand = np.maximum(hand, coverage)
    normal /= np.maximum(np.linalg.norm(normal, axis=0), 1e-9)
    ambient, shine = rng.uniform(0.3, 0.5), rng.uniform(0.0, 0.18)
    lit = _shade(normal, light, ambient, shine, albedo * (blotches * occlusion)[..., None])
    canvas = _cast_shadow(canvas, hand, light, pixel, rng)
    canvas += hand[..., None] * (lit - canvas)
    return _camera(canvas, rng)


def _skin_tone(rng: np.random.Generator) -> np.ndarray:
    position = rng.uniform(0, len(_SKIN_TONES) - 1) ** 1.3 / (len(_SKIN_TONES) - 1) ** 0.3
    low = int(position)
    high = min(low + 1, len(_SKIN_TONES) - 1)
    tone = _SKIN_TONES[low] + (position - low) * (_SKIN_TONES[high] - _SKIN_TONES[low])
    return np.clip(tone * rng.uniform(0.95, 1.05, 3), 0, 1)


def _background(rng: np.random.Generator, skin: np.ndarray) -> np.ndarray:
    """A plain light wall, a painted wall, a blurred room or a textured surface, unevenly lit."""
    y, x = _PIXEL_GRID
    kind = rng.choice(4, p=[0.45, 0.2, 0.25, 0.1])
    wall = _light_wall(rng) if kind == 0 else _wall_colour(rng, skin)
    canvas = np.broadcast_to(wall, (IMAGE_SIZE, IMAGE_SIZE, 3)).copy()
    if kind == 2:  # a room out of focus: door frames, shelves, furniture, posters
        for _ in range(rng.integers(2, 6)):
            top, left = rng.uniform(-0.2, 0.9, 2)
            height, width = rng.uniform(0.1, 0.8, 2)
            inside = (y > top) & (y < top + height) & (x > left) & (x < left + width)
            canvas[inside] = wall + rng.uniform(0.3, 0.9) * (_wall_colour(rng, skin) - wall)
        canvas = _blur(canvas, rng.uniform(1.0, 3.0))
    elif kind == 3:  # blotchy texture with faint, broad stripes; finger-wide stripes would look like fingers
        angle = rng.uniform(0, np.pi)
        stripes = 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(1.5, 3.5) * (x * np.cos(angle) + y * np.sin(angle)))
        weight = 0.3 * stripes + 0.7 * _smooth_noise(rng, cells=5)
        canvas += weight[..., None] * (_wall_colour(rng, skin) - wall)
    # Light falls off across a wall: a ramp in a random direction and a darker corner.
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (x - 0.5) * np.cos(angle) + (y - 0.5) * np.sin(angle)
    return (canvas * (1 + rng.uniform(0, 0.35) * ramp)[..., None]).astype(np.float32)


def _light_wall(rng: np.random.Generator) -> np.ndarray:
    """White, grey or cream paint, as behind most photos of a hand."""
    tint = rng.normal(0, 0.03, 3)
    return np.clip(rng.uniform(0.6, 0.95) + tint - tint.mean(), 0, 1)


def _wall_colour(rng: np.random.Generator, skin: np.ndarray) -> np.ndarray:
    # Rejection sampling keeps the hand readable; the last candidate is pushed away from the skin.
    for _ in range(50):
        colour = _muted_colour(rng)
        if np.linalg.norm(colour - skin) > 0.3:
            return colour
    return np.clip(1.0 - skin, 0, 1)


def _muted_colour(rng: np.random.Generator) -> np.ndarray:
    """A random colour, partly desaturated as walls and furniture mostly are."""
    colour = rng.uniform(0.0, 1.0, 3)
    grey = colour.mean()
    return grey + rng.uniform(0.1, 0.7) * (colour - grey)


def _smooth_noise(rng: np.random.Generator, cells: int) -> np.ndarray:
    """Value noise: a coarse random grid, bilinearly upsampled to the canvas."""
    coarse = rng.uniform(0, 1, (cells + 1, cells + 1))
    position = np.linspace(0, cells, IMAGE_SIZE, endpoint=False)
    index = position.astype(int)
    frac = position - index
    rows = coarse[index] * (1 - frac)[:, None] + coarse[index + 1] * frac[:, None]
    return (rows[:, index] * (1 - frac) + rows[:, index + 1] * frac).astype(np.float32)


def _hand_coordinates(rng: np.random.Generator):
    """Map every pixel to hand coordinates (palm centre at 0, fingers up, palm 1 wide).

    The hand is placed with a random rotation (mostly upright, sometimes nearly lying),
    scale, position and side (left or right hand). Also returns the size of one pixel in
    hand units, the rotation and whether the hand is mirrored.
    """
    y, x = _PIXEL_GRID
    angle = np.deg2rad(np.clip(rng.normal(0, 24), -70, 70))
    palm_width = rng.uniform(0.27, 0.4)  # as a fraction of the picture width
    centre_x = float(0.5 + rng.uniform(-0.12, 0.12) - 0.5 * palm_width * np.sin(angle))
    # The palm sits low, and the raised fingers stay inside the picture.
    centre_y = float(max(0.64 + rng.uniform(-0.08, 0.08), 1.45 * palm_width * np.cos(angle) + 0.02))
    dx, dy = x - centre_x, centre_y - y  # image y grows downwards, hand y upwards
    cos, sin, palm_width = float(np.cos(angle)), float(np.sin(angle)), float(palm_width)
    hand_x = (cos * dx - sin * dy) / palm_width
    hand_y = (sin * dx + cos * dy) / palm_width
    mirrored = rng.random() < 0.5
    if mirrored:
        hand_x = -hand_x
    return hand_x, hand_y, 1.0 / (IMAGE_SIZE * palm_width), angle, mirrored


def _light(rng: np.random.Generator, angle: float, mirrored: bool) -> np.ndarray:
    """A unit light direction in hand coordinates (z towards the camera): mostly from the front, above."""
    azimuth = rng.uniform(0, 2 * np.pi)
    sideways = rng.uniform(0.25, 0.75)  # the light direction's share in the picture's plane
    across, up = np.cos(azimuth) * sideways, np.sin(azimuth) * sideways  # in the picture: x right, y up
    cos, sin = np.cos(angle), np.sin(angle)
    hand = np.array([cos * across - sin * up, sin * across + cos * up])
    if mirrored:
        hand[0] = -hand[0]
    return np.array([hand[0], hand[1], np.sqrt(1 - sideways**2)])


def _hand_parts(hand_x, hand_y, raised, ring, skin, rng):
    """Yield ``(signed distance, normal, colour)`` for each part, back to front.

    Distances are in hand units, negative inside the part; normals are (3, H, W) in hand
    coordinates, z towards the camera.
    """
    palm_skin = skin + rng.uniform(0.1, 0.35) * (_PALM_TINT - skin)
    narrow = 0.72 if ring else 1.0  # a hand seen from the side, as in an "O"
    # Forearm, from the wrist to beyond the picture's edge, bending a little at the wrist.
    bend = np.deg2rad(rng.normal(0, 12))
    arm_end = (4.0 * np.sin(bend), -0.4 - 4.0 * np.cos(bend))
    arm_width = rng.uniform(0.34, 0.4) * (0.85 if ring else 1.0)
    yield *_capsule(hand_x, hand_y, (0.0, -0.4), arm_end, arm_width, arm_width * 1.25), skin
    sleeve_start, sleeve_colour = rng.uniform(1.0, 2.2), _muted_colour(rng)
    if rng.random() < 0.25:
        distance, normal = _capsule(hand_x, hand_y, (0.0, -0.4), arm_end, arm_width * 1.3, arm_width * 1.6)
        along = (hand_x * np.sin(bend) - (hand_y + 0.4) * np.cos(bend)) - sleeve_start
        yield np.maximum(distance, -along), normal, sleeve_colour

    # Palm: a rounded trapezoid, narrower at the wrist; seen from the side in an "O".
    half_width = rng.uniform(0.47, 0.53) * narrow
    half_height = rng.uniform(0.48, 0.56)
    width = half_width * (0.9 + 0.1 * np.clip(hand_y / half_height, -1, 1))
    u, v = hand_x / width, hand_y / half_height
    radius = (np.abs(u) ** 3 + np.abs(v) ** 3) ** (1 / 3)
    palm_normal = np.stack([0.55 * u, 0.4 * v, np.ones_like(u)])
    yield (radius - 1) * half_width, palm_normal / np.linalg.norm(palm_normal, axis=0), palm_skin

    top = half_height - 0.08
    spread = np.deg2rad(rng.uniform(6, 16))  # fingers shown apart, as people count with them
    # Two or three raised fingers open wider, into a V: the neighbours that would close it are folded.
    wider = np.deg2rad(rng.uniform(0, 12))
    if len(raised - {0}) in (2, 3):
        spread += wider
    length_scale = rng.uniform(0.88, 1.12)
    finger_scale = rng.uniform(0.9, 1.1)
    curled_shade = rng.uniform(0.75, 0.9)
    ring_centre = (rng.uniform(-0.05, 0.12), top + rng.uniform(0.22, 0.32))
    ring_radius = rng.uniform(0.24, 0.3)
    for i in range(4):
        base = (_FINGER_X[i] * narrow, top)
        angle = (i - 1.5) * spread + np.deg2rad(rng.normal(0, 3))
        length = _FINGER_LENGTH[i] * length_scale * rng.uniform(0.93, 1.07)
        radius = _FINGER_RADIUS[i] * finger_scale
        if ring:  # the hand from the side: the fingers stack behind the index's curl
            continue
        if i + 1 in raised:
            tip = (base[0] + length * np.sin(angle), base[1] + length * np.cos(angle))
            yield *_capsule(hand_x, hand_y, base, tip, radius, radius * 0.82), skin
        else:  # curled into the palm: the middle joints show across its top
            distance, normal = _capsule(hand_x, hand_y, (base[0], top + 0.05), (base[0], top - 0.24), radius * 1.05)
            yield distance, normal, skin * curled_shade

    if ring:
        # The curled fingers' bulk, then the index curling round to the thumb's tip.
        yield *_capsule(hand_x, hand_y, (0.14, top - 0.15), (0.18, ring_centre[1]), 0.3), skin * curled_shade
        yield *_torus(hand_x, hand_y, ring_centre, ring_radius, 0.12 * finger_scale), skin

    thumb_base = (-0.36 * narrow, -0.28)
    angle = np.deg2rad(rng.uniform(35, 70))
    length = rng.uniform(0.6, 0.75) * length_scale
    folded_tip = (rng.uniform(0.0, 0.2), rng.uniform(0.0, 0.16))
    if ring:  # up to meet the index's tip, closing the "O"
        thumb_tip = (ring_centre[0] - 0.3 * ring_radius, ring_centre[1] - 0.9 * ring_radius)
    elif 0 in raised:  # out to the side and up
        thumb_tip = (thumb_base[0] - length * np.sin(angle), thumb_base[1] + length * np.cos(angle))
    else:  # folded across the palm and the curled fingers
        thumb_tip = folded_tip
    yield *_capsule(hand_x, hand_y, thumb_base, thumb_tip, 0.21 * finger_scale, 0.13 * finger_scale), skin


def _capsule(x, y, start, end, radius, end_radius=None):
    """Signed distance and surface normal of a (tapered) cylinder from ``start`` to ``end``."""
    end_radius = radius if end_radius is None else end_radius
    (x0, y0), (x1, y1) = (float(v) for v in start), (float(v) for v in end)
    radius, end_radius = float(radius), float(end_radius)
    along_x, along_y = x1 - x0, y1 - y0
    t = np.clip(((x - x0) * along_x + (y - y0) * along_y) / (along_x**2 + along_y**2), 0, 1)
    across_x, across_y = x - (x0 + t * along_x), y - (y0 + t * along_y)
    distance = np.hypot(across_x, across_y)
    width = radius + t * (end_radius - radius)
    return distance - width, _normal(across_x / width, across_y / width)


def _torus(x, y, centre, radius, tube):
    """Signed distance and normal of a ring (a finger curled round), seen from the front."""
    dx, dy = x - float(centre[0]), y - float(centre[1])
    radius, tube = float(radius), float(tube)
    from_centre = np.hypot(dx, dy) + 1e-9
    across = (from_centre - radius) / tube
    return np.abs(from_centre - radius) - tube, _normal(across * dx / from_centre, across * dy / from_centre)


def _normal(nx, ny):
    """A unit normal from its sideways part (clipped to the rim)."""
    length = np.hypot(nx, ny)
    scale = np.where(length > 1, 1 / np.maximum(length, 1e-9), 1.0)
    nx, ny = nx * scale, ny * scale
    return np.stack([nx, ny, np.sqrt(np.clip(1 - nx**2 - ny**2, 0, 1))])


def _shade(normal, light, ambient, shine, colour):
    """Diffuse light with redder shadows (light scatters in skin) and a soft highlight."""
    light = light.astype(np.float32)
    diffuse = np.clip(np.tensordot(light, normal, axes=1), 0, 1)
    level = ambient + (1 - ambient) * diffuse
    halfway = light + np.array([0.0, 0.0, 1.0], np.float32)
    highlight = shine * np.clip(np.tensordot(halfway / np.linalg.norm(halfway), normal, axes=1), 0, 1) ** 16
    return colour * level[..., None] ** np.array([0.8, 1.0, 1.15], np.float32) + highlight[..., None]


def _cast_shadow(canvas, hand, light, pixel, rng):
    """The hand's soft shadow on the wall, away from the light."""
    offset = -light[:2] / light[2] * rng.uniform(0.05, 0.2) / pixel  # in pixels; the wall is close
    shifted = np.roll(hand, (int(round(-offset[1])), int(round(offset[0]))), axis=(0, 1))
    shadow = _blur(shifted[..., None], rng.uniform(1.0, 3.0))[..., 0]
    return canvas * (1 - rng.uniform(0.1, 0.4) * shadow)[..., None]


def _blur(image, sigma):
    """Gaussian blur of an (H, W, C) float image, as two matrix products (fast in NumPy)."""
    index = np.arange(IMAGE_SIZE)
    weights = np.exp(-0.5 * ((index[:, None] - index[None, :]) / sigma) ** 2).astype(np.float32)
    weights /= weights.sum(axis=1, keepdims=True)  # near the border, the pixels inside count more
    rows = (weights @ image.reshape(IMAGE_SIZE, -1)).reshape(image.shape)
    return weights @ rows


def _camera(image, rng):
    """Focus blur, exposure and white balance, sensor noise and, mostly, JPEG compression."""
    image = _blur(image, rng.uniform(0.3, 0.9))
    gain = rng.uniform(0.8, 1.15) * np.exp(rng.normal(0, 0.05, 3))
    image = np.clip(image * gain, 0, 1) ** rng.uniform(0.85, 1.15)
    image = image + rng.normal(0.0, rng.uniform(0.004, 0.025), image.shape)
    pixels = np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)
    quality = int(rng.integers(35, 96))
    if rng.random() < 0.75:
        from PIL import Image

        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="JPEG", quality=quality)
        with Image.open(buffer) as compressed:
            pixels = np.asarray(compressed.convert("RGB"), dtype=np.uint8).copy()
    return pixels


if __name__ == "__main__":
    _draw_from_stdin()

"""Self-blended pseudo-fakes (``pseudo_fakes=sbi``), written from the paper's description.

Shiohara and Yamasaki, "Detecting Deepfakes with Self-Blended Images", CVPR 2022: a detector
trained only on real faces learns generic blending artefacts if each real face is blended with a
slightly altered copy of itself. The recipe, as the paper describes it:

1. **Source-target generation**: copy the face twice; give one copy (the source) colour changes
   (RGB and HSV shifts, brightness/contrast) and a frequency change (blur, sharpen, or down-then-up
   sampling), then a small resize and translation, so the two copies disagree slightly in colour,
   sharpness and alignment.
2. **Mask generation**: the convex hull of the facial landmarks, deformed (elastic warp) and
   blurred (Gaussian, random kernels) so its edge varies from blend to blend.
3. **Blending**: ``I = source * (r M) + target * (1 - r M)`` with a blend ratio ``r`` drawn from
   {0.25, 0.5, 0.75, 1, 1, 1}.

Masks come from ``prepare``'s manifest columns, in the pixels of the file this module blends:
the dense face hull :data:`~dfdetect.data.manifest.HULL_COLUMN` (``face_hull``: convex hull of
MediaPipe's 468-point mesh, forehead to chin, as the paper's hull of 81 landmarks), else the five
points :data:`~dfdetect.data.manifest.LANDMARK_COLUMNS` (``lm1_x, ..., lm5_y``; they cover only
eyes, nose and mouth, so their hull is enlarged around its centre), else an ellipse inside the face
box (the crop). :class:`SelfBlend` counts which mask each blend used; :func:`coverage` says it
for a training set before the run.

Part blends (``pseudo_fakes=sbi_parts``, or ``sbi+parts`` for half of each) target composites
where an eye, a nose or a mouth of someone else is pasted into a face: one to three part regions
(:data:`~dfdetect.data.manifest.PART_COLUMNS`, or regions built around the five points) are
blended in from another real face of the training set, aligned on the five points and
colour-matched, or from a transformed copy of the face itself. Their masks are blurred by a few
pixels only, so the seam survives resizing to a 128 px training input.

All randomness comes from the ``numpy.random.Generator`` passed in, so a blend is reproducible.
"""
from __future__ import annotations

from collections import Counter

import numpy as np

from dfdetect.data.manifest import HULL_COLUMN, LANDMARK_COLUMNS, PART_COLUMNS, parse_polygon

BLEND_RATIOS = (0.25, 0.5, 0.75, 1.0, 1.0, 1.0)


def landmarks_of(extra: dict) -> np.ndarray | None:
    """(5, 2) landmark pixels from a manifest row's extra columns, or None if absent/blank."""
    try:
        values = [float(extra[c]) for c in LANDMARK_COLUMNS]
    except (KeyError, ValueError, TypeError):
        return None
    pts = np.asarray(values, dtype=np.float32).reshape(5, 2)
    return pts if np.isfinite(pts).all() else None


def face_hull_of(extra: dict) -> np.ndarray | None:
    """(K, 2) dense face hull from a row's ``face_hull`` column, or None if absent/blank."""
    return parse_polygon(extra.get(HULL_COLUMN, ""))


def dense_mask(shape: tuple[int, int], hull: np.ndarray) -> np.ndarray:
    """The filled dense face hull, as it is (it reaches the forehead): (H, W) float32."""
    import cv2

    mask = np.zeros(shape, np.float32)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.round(hull).astype(np.int32)), 1.0)
    return mask


def hull_mask(shape: tuple[int, int], points: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Filled convex hull of ``points`` enlarged 1.3-1.7x about its centre: (H, W) float32."""
    import cv2

    h, w = shape
    centre = points.mean(0, keepdims=True)
    grown = centre + (points - centre) * rng.uniform(1.3, 1.7, size=(1, 2))
    grown[:, 1] += (grown[:, 1].max() - grown[:, 1].min()) * 0.1  # reach a little down the chin
    hull = cv2.convexHull(np.round(grown).astype(np.int32))
    mask = np.zeros((h, w), np.float32)
    cv2.fillConvexPoly(mask, hull, 1.0)
    return mask


def ellipse_mask(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """An ellipse inside the face box (the whole crop), jittered: (H, W) float32."""
    import cv2

    h, w = shape
    centre = (int(w * rng.uniform(0.46, 0.54)), int(h * rng.uniform(0.5, 0.58)))
    axes = (max(1, int(w * rng.uniform(0.28, 0.38))), max(1, int(h * rng.uniform(0.34, 0.44))))
    mask = np.zeros((h, w), np.float32)
    cv2.ellipse(mask, centre, axes, 0, 0, 360, 1.0, -1)
    return mask


def deform_mask(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Elastic warp (smooth random displacement) then two random Gaussian blurs."""
    import cv2

    h, w = mask.shape
    grid = 4
    amp = 0.04 * min(h, w)
    dx = cv2.resize(rng.uniform(-amp, amp, (grid, grid)).astype(np.float32), (w, h))
    dy = cv2.resize(rng.uniform(-amp, amp, (grid, grid)).astype(np.float32), (w, h))
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    out = cv2.remap(mask, xs + dx, ys + dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    for _ in range(2):
        k = int(rng.integers(1, max(2, min(h, w) // 8))) * 2 + 1
        out = cv2.GaussianBlur(out, (k, k), 0)
    peak = out.max()
    return out / peak if peak > 0 else out


def _colour(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """RGB shift, HSV shift and brightness/contrast on a float32 RGB image in [0, 255]."""
    import cv2

    out = img + rng.uniform(-20, 20, size=3)
    hsv = cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv += rng.uniform([-10, -30, -20], [10, 30, 20])
    hsv[..., 0] %= 180
    out = cv2.cvtColor(np.clip(hsv, 0, 255).astype(np.uint8), cv2.COLOR_HSV2RGB).astype(np.float32)
    alpha, beta = rng.uniform(0.9, 1.1), rng.uniform(-10, 10)
    return out * alpha + beta


def _frequency(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One of: Gaussian blur, sharpening, or down-then-up sampling."""
    import cv2

    h, w = img.shape[:2]
    kind = int(rng.integers(3))
    if kind == 0:
        return cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 1.5))
    if kind == 1:
        soft = cv2.GaussianBlur(img, (0, 0), 1.0)
        return img + rng.uniform(0.3, 1.0) * (img - soft)
    f = rng.uniform(0.4, 0.8)
    small = cv2.resize(img, (max(2, int(w * f)), max(2, int(h * f))), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _misalign(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Small resize (per axis) and translation, keeping the frame size."""
    import cv2

    h, w = img.shape[:2]
    sx, sy = rng.uniform(0.95, 1.05, size=2)
    tx, ty = rng.uniform(-0.03, 0.03, size=2) * (w, h)
    m = np.float32([[sx, 0, (1 - sx) * w / 2 + tx], [0, sy, (1 - sy) * h / 2 + ty]])
    return cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REFLECT_101)


def self_blend(image: np.ndarray, landmarks: np.ndarray | None,
               rng: np.random.Generator, hull: np.ndarray | None = None,
               ) -> tuple[np.ndarray, np.ndarray]:
    """Blend ``image`` (H, W, 3) uint8 with a transformed copy of itself inside the dense
    ``hull`` (else the enlarged hull of the five ``landmarks``, else an ellipse); returns
    (image, mask)."""
    base = image.astype(np.float32)
    source = _misalign(_frequency(_colour(base, rng), rng), rng)
    target = base
    if rng.random() < 0.5:  # the paper transforms either copy; the blend direction varies too
        source, target = target, source
    shape = image.shape[:2]
    mask = (dense_mask(shape, hull) if hull is not None
            else hull_mask(shape, landmarks, rng) if landmarks is not None
            else ellipse_mask(shape, rng))
    mask = deform_mask(mask, rng) * float(rng.choice(BLEND_RATIOS))  # (H, W)
    out = source * mask[..., None] + target * (1 - mask[..., None])
    return np.clip(out, 0, 255).astype(np.uint8), mask


def inside(points: np.ndarray, shape: tuple[int, ...], border: float = 0.0) -> bool:
    """Whether every point lies in an image of ``shape`` (landmarks in the crop's pixels),
    allowing ``border`` (a fraction of the side) outside it: a face hull may cross the edge of a
    tight crop, but points far outside are in some other image's pixels."""
    h, w = shape[:2]
    bx, by = border * w, border * h
    return bool((points[:, 0] >= -bx).all() and (points[:, 0] < w + bx).all()
                and (points[:, 1] >= -by).all() and (points[:, 1] < h + by).all())


def usable(extra: dict, shape: tuple[int, ...]) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(dense hull, five points) of a row that fit an image of ``shape``; None for each that is
    absent or lies outside it."""
    hull, points = face_hull_of(extra), landmarks_of(extra)
    hull = hull if hull is not None and inside(hull, shape, border=0.1) else None
    points = points if points is not None and inside(points, shape) else None
    return hull, points


def mask_kind(hull: np.ndarray | None, points: np.ndarray | None) -> str:
    return "dense hull" if hull is not None else "5-point hull" if points is not None else "ellipse"


def coverage(samples) -> str:
    """How the masks of these rows will be made, for the run's opening line."""
    kinds = Counter(mask_kind(face_hull_of(s.extra), landmarks_of(s.extra)) for s in samples)
    text = ", ".join(f"{kinds[k]} {k}" for k in ("dense hull", "5-point hull", "ellipse")
                     if kinds[k])
    if kinds["ellipse"]:
        text += (" (no landmarks: an ellipse inside the face box; run `dfdetect prepare` with "
                 "landmarks=mediapipe for the dense hull)")
    elif kinds["5-point hull"]:
        text += " (prepare with landmarks=mediapipe adds the dense hull)"
    return "masks: " + text


class SelfBlend:
    """``(image, extra columns, rng) -> pseudo-fake image`` for the training dataset.

    ``masks`` counts the masks this instance made (``dense hull``, ``5-point hull``,
    ``ellipse``: no usable landmarks), per process."""

    def __init__(self) -> None:
        self.masks: Counter = Counter()

    def __call__(self, image: np.ndarray, extra: dict, rng: np.random.Generator) -> np.ndarray:
        hull, points = usable(extra, image.shape)  # outside: a hull there would miss the face
        self.masks[mask_kind(hull, points)] += 1
        return self_blend(image, points, rng, hull)[0]


# ---- part blends -------------------------------------------------------------------------------

#: part blends per pseudo-fake: 1, 2 or 3 parts with these chances
PART_COUNTS = ((1, 0.5), (2, 0.3), (3, 0.2))


def _ellipse_poly(centre, axes, angle: float = 0.0) -> np.ndarray:
    import cv2

    c = tuple(int(round(v)) for v in centre)
    a = tuple(max(1, int(round(v))) for v in axes)
    return cv2.ellipse2Poly(c, a, int(round(angle)), 0, 360, 15).astype(np.float32)


def parts_from_points(points: np.ndarray) -> dict[str, np.ndarray]:
    """Part regions around the five points when there is no mesh: each eye with its brow, the
    nose from between the eyes to below the tip, the mouth around its corners."""
    eye1, eye2, nose, m1, m2 = points.astype(np.float64)
    d = max(1.0, float(np.linalg.norm(eye2 - eye1)))  # inter-ocular distance
    angle = float(np.degrees(np.arctan2(*(eye2 - eye1)[::-1])))
    mid_eye, mouth = (eye1 + eye2) / 2, (m1 + m2) / 2
    nose_c = (mid_eye + nose) / 2 + [0, 0.08 * d]
    return dict(zip(PART_COLUMNS, (
        _ellipse_poly(eye1 - [0, 0.1 * d], (0.4 * d, 0.28 * d), angle),
        _ellipse_poly(eye2 - [0, 0.1 * d], (0.4 * d, 0.28 * d), angle),
        _ellipse_poly(nose_c, (0.25 * d, np.linalg.norm(nose - mid_eye) / 2 + 0.12 * d)),
        _ellipse_poly(mouth, (np.linalg.norm(m2 - m1) / 2 + 0.12 * d, 0.25 * d), angle))))


def part_regions(extra: dict, shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    """Part polygons of a row in the image's pixels: the mesh's (``part_*`` columns) when all
    four are there and inside, else built around the five points; {} without either."""
    dense = {c: parse_polygon(extra.get(c, "")) for c in PART_COLUMNS}
    if all(p is not None and inside(p, shape, border=0.05) for p in dense.values()):
        return dense
    points = landmarks_of(extra)
    return parts_from_points(points) if points is not None and inside(points, shape) else {}


def part_mask(shape: tuple[int, int], polygons: list[np.ndarray],
              rng: np.random.Generator) -> np.ndarray:
    """Union of the filled part polygons, grown a little, lightly warped and blurred by a few
    pixels (a seam that survives downscaling): (H, W) float32 in [0, 1]."""
    import cv2

    h, w = shape
    mask = np.zeros(shape, np.float32)
    for poly in polygons:
        cv2.fillConvexPoly(mask, cv2.convexHull(np.round(poly).astype(np.int32)), 1.0)
    grow = int(rng.integers(0, max(1, min(h, w) // 40) + 1))
    if grow:
        mask = cv2.dilate(mask, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))
    sigma = rng.uniform(0.5, 1.0) * max(1.0, min(h, w) / 128)  # 1-2 px at 256: visible at 128
    return np.clip(cv2.GaussianBlur(mask, (0, 0), sigma), 0, 1)


def align_donor(donor: np.ndarray, donor_points: np.ndarray, points: np.ndarray,
                shape: tuple[int, int]) -> np.ndarray | None:
    """The donor face warped (similarity transform on the five points) onto this face's
    position; None when no transform fits."""
    import cv2

    m, _ = cv2.estimateAffinePartial2D(donor_points.astype(np.float32),
                                       points.astype(np.float32), method=cv2.LMEDS)
    if m is None or not np.isfinite(m).all():
        return None
    return cv2.warpAffine(donor, m, (shape[1], shape[0]), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REFLECT_101).astype(np.float32)


def match_colour(source: np.ndarray, target: np.ndarray, mask: np.ndarray,
                 strength: float) -> np.ndarray:
    """Move the source's per-channel mean and spread inside ``mask`` towards the target's (the
    colour correction a forger applies), by ``strength`` in [0, 1]."""
    sel = mask > 0.5
    if sel.sum() < 4:
        return source
    s_mean, s_std = source[sel].mean(0), source[sel].std(0) + 1e-3
    t_mean, t_std = target[sel].mean(0), target[sel].std(0) + 1e-3
    matched = (source - s_mean) / s_std * t_std + t_mean
    return source + strength * (matched - source)


def part_blend(image: np.ndarray, regions: dict[str, np.ndarray], rng: np.random.Generator,
               donor: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Blend 1-3 of ``regions`` into ``image`` from ``donor`` (already aligned, float32) or,
    without one, from a colour/frequency-changed, slightly shifted copy of the image; returns
    (image, mask, the parts used)."""
    base = image.astype(np.float32)
    names = sorted(regions)
    k = min(len(names), int(rng.choice([n for n, _ in PART_COUNTS],
                                       p=[p for _, p in PART_COUNTS])))
    chosen = sorted(rng.choice(names, size=k, replace=False).tolist())
    mask = part_mask(image.shape[:2], [regions[c] for c in chosen], rng)
    if donor is not None:
        source = match_colour(donor, base, mask, rng.uniform(0.5, 1.0))
    else:
        source = _misalign(_frequency(_colour(base, rng), rng), rng)
    mask = mask * float(rng.choice((0.75, 1.0, 1.0)))
    out = source * mask[..., None] + base * (1 - mask[..., None])
    return np.clip(out, 0, 255).astype(np.uint8), mask, chosen


class PartBlend:
    """``pseudo_fakes=sbi_parts``: facial parts of another real face (``donor_p`` of the time,
    when the dataset binds a donor source and both faces have five points) or of a transformed
    self, blended into the face. ``masks`` counts what each blend used."""

    def __init__(self, donor_p: float = 0.5) -> None:
        self.masks: Counter = Counter()
        self.donor_p = donor_p
        self.donor = None

    def bind(self, donor) -> None:
        """``donor(rng) -> (image, extra) or None``: a random real face of the training set."""
        self.donor = donor

    def _donor(self, extra: dict, shape, rng: np.random.Generator) -> np.ndarray | None:
        points = landmarks_of(extra)
        if self.donor is None or points is None or rng.random() >= self.donor_p:
            return None
        got = self.donor(rng)
        if got is None:
            return None
        image, donor_extra = got
        donor_points = landmarks_of(donor_extra)
        if donor_points is None or not inside(donor_points, image.shape):
            return None
        return align_donor(image, donor_points, points, shape[:2])

    def __call__(self, image: np.ndarray, extra: dict, rng: np.random.Generator) -> np.ndarray:
        regions = part_regions(extra, image.shape)
        if not regions:
            self.masks["ellipse"] += 1  # nowhere to put a part: a whole-face blend instead
            return self_blend(image, None, rng)[0]
        donor = self._donor(extra, image.shape, rng)
        dense = all(extra.get(c) for c in PART_COLUMNS)
        self.masks[("mesh parts" if dense else "5-point parts")
                   + (" from another face" if donor is not None else " from itself")] += 1
        return part_blend(image, regions, rng, donor)[0]


class MixedBlend:
    """``pseudo_fakes=sbi+parts``: each pseudo-fake is a whole-face self-blend or a part blend,
    half and half."""

    def __init__(self, *makers) -> None:
        self.makers = makers

    @property
    def masks(self) -> Counter:
        return sum((m.masks for m in self.makers), Counter())

    def bind(self, donor) -> None:
        for m in self.makers:
            if hasattr(m, "bind"):
                m.bind(donor)

    def __call__(self, image: np.ndarray, extra: dict, rng: np.random.Generator) -> np.ndarray:
        return self.makers[int(rng.integers(len(self.makers)))](image, extra, rng)


def _registry():
    from dfdetect.registry import Registry

    reg: Registry = Registry("pseudo-fake method")
    reg.register("sbi")(SelfBlend)
    reg.register("sbi_parts")(PartBlend)
    reg.register("sbi+parts")(lambda: MixedBlend(SelfBlend(), PartBlend()))
    return reg


def build_pseudo_fakes(name: str):
    """The pseudo-fake maker ``pseudo_fakes=<name>`` asks for (None for an empty name)."""
    return _registry().build(name) if name else None

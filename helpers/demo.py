"""Deterministic synthetic IDC-like data in the exact Kaggle layout, for offline use and tests.

Each demo patient is a small "slide" painted in H&E concentrations and turned into RGB with
:func:`skimage.color.hed2rgb`, then cut into 50 x 50 patches named like the real ones
(``<patient>/<0|1>/<patient>_idx5_x<X>_y<Y>_class<C>.png``). What separates the classes is what separates them in
real tissue, in caricature: tumour (class 1) has more, larger and darker nuclei; non-tumour tissue has pink stroma
and white fat. Every patient gets its own stain strength (the "centre heterogeneity" of real data), and the slide's
right and bottom borders give edge patches smaller than 50 x 50.

It is NOT real data: numbers computed on it illustrate the methods and mean nothing medically.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._common import cache_dir

__all__ = ["make_demo_idc", "render_demo_slide", "demo_idc_dir", "DEMO_PATIENT_BASE", "HOW_TO_GET_REAL"]

DEMO_VERSION = 1
#: Demo patient ids start here (real ids are 8863–16896), so demo and real patients never collide.
DEMO_PATIENT_BASE = 90001
PATCH = 50

HOW_TO_GET_REAL = (
    "set HISTO_IDC_DIR to a copy of the Kaggle data set 'Breast Histopathology Images', unpack the instructor's "
    "prepared subset into data/idc_subset, or run `python -m helpers prepare --download` once while online."
)


def _blobs(rng, shape, n, scale, smooth, threshold):
    """Smooth random blobs: a field over ``shape``, positive inside ``n`` random Gaussian bumps (plus noise)."""
    from scipy import ndimage

    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    field = np.zeros(shape, np.float32)
    for _ in range(n):
        cy, cx = rng.uniform(0.2, 0.8) * h, rng.uniform(0.2, 0.8) * w
        sy, sx = rng.uniform(0.5, 1.0) * scale * h, rng.uniform(0.5, 1.0) * scale * w
        field += np.exp(-(((yy - cy) / sy) ** 2 + ((xx - cx) / sx) ** 2))
    noise = ndimage.gaussian_filter(rng.standard_normal(shape).astype(np.float32), smooth)
    noise /= noise.std() + 1e-6
    return field + 0.25 * noise - threshold


def render_demo_slide(patient: int, seed: int = 0, grid: tuple[int, int] | None = None):
    """Paint one synthetic slide.

    Returns
    -------
    rgb : ndarray of uint8, shape (H, W, 3)
    tissue : ndarray of bool, shape (H, W)
    tumour : ndarray of bool, shape (H, W)
    """
    from scipy import ndimage
    from skimage.color import hed2rgb
    from skimage.transform import resize

    rng = np.random.default_rng([seed, patient])
    rows, cols = grid if grid is not None else (int(rng.integers(13, 17)), int(rng.integers(17, 22)))
    h = rows * PATCH - int(rng.integers(8, 40))  # the last row and column are cut: edge patches
    w = cols * PATCH - int(rng.integers(8, 40))
    low = (rows * 4, cols * 4)

    def up(field):
        return resize(field, (h, w), order=3) > 0

    tissue = up(_blobs(rng, low, 3, 0.45, 3, 0.45))
    tumour = up(_blobs(rng, low, int(rng.integers(1, 4)), 0.3, 2, 0.45)) & tissue
    fat_region = up(_blobs(rng, low, 2, 0.18, 2, 0.75)) & tissue & ~tumour

    # Nuclei: impulses blurred into blobs. Tumour: denser, bigger, darker.
    def nuclei(density, sigma, amplitude, where):
        imp = (rng.random((h, w)) < density) & where
        blob = ndimage.gaussian_filter(imp.astype(np.float32), sigma) * (2 * np.pi * sigma**2)
        return amplitude * np.clip(blob, 0, 1.5)

    normal = tissue & ~tumour & ~fat_region
    hema = nuclei(1 / 380, 1.3, 0.9, normal) + nuclei(1 / 110, 2.3, 1.4, tumour)
    # Stroma fibres: anisotropic smoothed noise; fat: white cells with thin pink membranes.
    fibres = ndimage.gaussian_filter(rng.standard_normal((h, w)).astype(np.float32), (1.0, 4.0))
    fibres = 0.55 + 0.15 * fibres / (fibres.std() + 1e-6)
    eosin = np.where(tissue, np.clip(fibres, 0.2, 1.0), 0.0)
    eosin = np.where(tumour, 0.45 * eosin + 0.2, eosin)
    cells = ndimage.gaussian_filter(rng.standard_normal((h, w)).astype(np.float32), 5)
    membranes = np.abs(cells) < 0.03 * cells.std() * 4
    eosin = np.where(fat_region, 0.6 * membranes, eosin)
    hema = np.where(fat_region, 0.0, hema)

    # Per-patient stain strength and a little DAB-like tint: centre-to-centre colour variation.
    h_gain, e_gain = rng.uniform(0.75, 1.3), rng.uniform(0.7, 1.3)
    dab = rng.uniform(0.0, 0.03) * tissue
    hed = np.stack([0.1 * h_gain * hema, 0.055 * e_gain * eosin, dab], axis=-1)
    rgb = hed2rgb(hed)
    rgb = rgb + rng.normal(0, 0.015, rgb.shape)
    rgb = np.clip(rgb, 0, 1)
    return (rgb * 255 + 0.5).astype(np.uint8), tissue, tumour


def make_demo_idc(root, n_patients: int = 12, seed: int = 0, min_tissue: float = 0.35) -> Path:
    """Write a synthetic IDC data set in the Kaggle layout under ``root``.

    Parameters
    ----------
    root : path-like
        Output folder (created). Patients are ``90001``, ``90002``, ...
    n_patients : int
        Number of synthetic patients (slides); about 150–250 patches each.
    seed : int
        Everything is determined by it.
    min_tissue : float
        A patch is kept when at least this fraction of it is tissue (as in the real data, background is not
        patched). Its label is 1 when at least half of its tissue is tumour.

    Returns
    -------
    Path
        ``root``.
    """
    from PIL import Image

    root = Path(root)
    for k in range(n_patients):
        pid = DEMO_PATIENT_BASE + k
        rgb, tissue, tumour = render_demo_slide(pid, seed=seed)
        h, w = tissue.shape
        for label in (0, 1):
            (root / str(pid) / str(label)).mkdir(parents=True, exist_ok=True)
        for y0 in range(0, h, PATCH):
            for x0 in range(0, w, PATCH):
                t = tissue[y0 : y0 + PATCH, x0 : x0 + PATCH]
                if t.size == 0 or t.mean() < min_tissue:
                    continue
                tum = tumour[y0 : y0 + PATCH, x0 : x0 + PATCH]
                label = int(tum.sum() >= 0.5 * t.sum())
                patch = rgb[y0 : y0 + PATCH, x0 : x0 + PATCH]
                name = f"{pid}_idx5_x{x0 + 1}_y{y0 + 1}_class{label}.png"
                Image.fromarray(patch).save(root / str(pid) / str(label) / name, compress_level=1)
    return root


def demo_idc_dir(seed: int = 0) -> Path:
    """Folder of the default demo data set, generated on first use in the cache folder."""
    folder = cache_dir("demo") / f"idc-v{DEMO_VERSION}-seed{seed}"
    marker = folder / ".complete"
    if not marker.exists():
        import shutil

        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        make_demo_idc(tmp, seed=seed)
        (tmp / ".complete").write_text("ok\n")
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
    return folder

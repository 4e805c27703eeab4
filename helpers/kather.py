"""Kather 2016 colorectal tissue textures: finding, loading and faking the data.

Data set: Kather JN, Weis CA, Bianconi F, et al. *Multi-class texture analysis in colorectal
cancer histology.* Sci Rep 2016;6:27988, doi:10.1038/srep27988. Data: Zenodo record 53169,
doi:10.5281/zenodo.53169, license CC BY 4.0. 5,000 RGB tiles of 150x150 px (74 µm x 74 µm),
625 per class, eight classes, the class given by the folder::

    Kather_texture_2016_image_tiles_5000/01_TUMOR/<name>.tif
                                         02_STROMA/ ... 08_EMPTY/

Each tile was cut from a larger image of one of ten slides; the name says which, e.g.
``1A11_CRC-Prim-HE-07_022.tif_Row_601_Col_151.tif`` is from image ``CRC-Prim-HE-07_022``
of slide ``CRC-Prim-HE-07`` at row 601, column 151.

Where data is looked for, in order (:func:`find_kather`):

1. an explicit ``path`` argument;
2. ``$HISTO_KATHER_DIR``;
3. a prepared copy under the repository's ``data/`` folder (``data/kather2016`` or
   ``data/Kather_texture_2016_image_tiles_5000``);
4. a kagglehub download of ``kmader/colorectal-histology-mnist`` (version pinned, so a cached
   copy works offline);
5. the original zip on Zenodo, fetched with pooch and checked against its MD5;
6. synthetic demo tiles in the same layout -- never silently: a banner says so.

``$HISTO_DEMO=1`` skips 2-5 and uses the demo tiles.

Command line: ``python -m helpers kather status|download|demo`` (see :func:`main`).
"""

from __future__ import annotations

import argparse
import os
import re
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple, Sequence

import numpy as np
import pandas as pd

from ._common import DataError, cache_dir, demo_forced, kagglehub_cached, repo_data_dir, stable_hash, warn_demo

__all__ = [
    "CLASS_NAMES",
    "CLASS_FOLDERS",
    "CLASS_DESCRIPTIONS",
    "KatherData",
    "KatherLocation",
    "find_kather",
    "locate_tile_root",
    "index_kather",
    "read_tiles",
    "load_kather",
    "cut_patches",
    "make_demo_kather",
    "kather_status",
    "kather_status_info",
    "demo_kather_dir",
    "download_kather",
    "tile_predictions",
    "top_confusions",
    "plot_tile_patches",
    "plot_validation_curve",
    "plot_confusion_examples",
    "main",
]

CLASS_NAMES: tuple[str, ...] = (
    "TUMOR", "STROMA", "COMPLEX", "LYMPHO", "DEBRIS", "MUCOSA", "ADIPOSE", "EMPTY",
)
CLASS_FOLDERS: tuple[str, ...] = tuple(f"{i + 1:02d}_{n}" for i, n in enumerate(CLASS_NAMES))
CLASS_DESCRIPTIONS: dict[str, str] = {
    "TUMOR": "tumour epithelium",
    "STROMA": "simple stroma (homogeneous, e.g. tumour stroma, muscle)",
    "COMPLEX": "complex stroma (stroma with single tumour cells or immune cells)",
    "LYMPHO": "immune cells (lymphocytes, lymphoid aggregates)",
    "DEBRIS": "debris (necrosis, haemorrhage, mucus)",
    "MUCOSA": "normal mucosal glands",
    "ADIPOSE": "adipose tissue (fat)",
    "EMPTY": "background (no tissue)",
}

TILES_DIRNAME = "Kather_texture_2016_image_tiles_5000"
TILE_SIZE = 150
ENV_DIR = "HISTO_KATHER_DIR"
KAGGLE_HANDLE = "kmader/colorectal-histology-mnist/versions/2"
ZENODO_RECORD = 53169
ZENODO_DOI = "10.5281/zenodo.53169"
ZENODO_FILE = "Kather_texture_2016_image_tiles_5000.zip"
ZENODO_URL = f"https://zenodo.org/records/{ZENODO_RECORD}/files/{ZENODO_FILE}?download=1"
ZENODO_MD5 = "md5:0ddbebfc56344752028fda72602aaade"
PREPARED_DIRNAMES = ("kather2016", TILES_DIRNAME)
TIFF_SUFFIXES = (".tif", ".tiff")

HOW_TO_GET = (
    f"set {ENV_DIR} to a folder holding {TILES_DIRNAME}/01_TUMOR ... 08_EMPTY; "
    f"or download it with a network connection: `python -m helpers kather download` "
    f"(tries Kaggle '{KAGGLE_HANDLE.split('/versions')[0]}' via kagglehub, then Zenodo "
    f"record {ZENODO_RECORD}, doi:{ZENODO_DOI}, no account needed); "
    f"or unzip {ZENODO_FILE} into the workshop's data/ folder."
)

_FOLDER_RE = re.compile(r"^(\d{1,2})_([A-Za-z]+)$")
_NAME_RE = re.compile(
    r"^(?:[0-9A-Fa-f]+_)?(?P<image>(?P<slide>.+?-\d+)(?:_[^.]*)?)\.tiff?_Row_(?P<row>\d+)_Col_(?P<col>\d+)"
)
_DEMO_VERSION = 2
DEMO_PER_CLASS = 6  # demo tiles per class made when no real data is found


# --------------------------------------------------------------------------------------------
# container


@dataclass
class KatherData:
    """Kather tiles (or sub-patches cut from them) in memory.

    Attributes
    ----------
    images : uint8 array (n, h, w, 3)
    labels : int64 array (n,), index into ``class_names``
    class_names : the eight class names, ``CLASS_NAMES``
    tile_ids : int64 array (n,), one id per source tile; sub-patches cut from one tile share it.
        Use as ``groups`` for GroupKFold / GroupShuffleSplit. For data from
        :func:`load_kather` the id is the tile's row in the tile-level data (0 .. n_tiles-1), so
        ``tiles.labels[tile_id]`` is the tile's label.
    slide_ids : array of str (n,), the slide a tile was cut from (``CRC-Prim-HE-07``); a
        coarser, patient-like grouping.
    table : DataFrame aligned with ``images``: path, folder, class_name, label, tile_id,
        slide, image, row, col (position of the tile in its source image), patch (index of the
        sub-patch in its tile, 0 for whole tiles).
    source : where the data came from (a sentence).
    is_demo : True for synthetic demo tiles.
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]
    tile_ids: np.ndarray
    slide_ids: np.ndarray
    table: pd.DataFrame
    source: str
    is_demo: bool
    root: Path | None = None
    banner: str | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.labels)

    def __repr__(self) -> str:
        shape = "x".join(str(s) for s in self.images.shape)
        return (
            f"KatherData({len(self)} images {shape}, {len(np.unique(self.tile_ids))} tiles, "
            f"{len(self.class_names)} classes, source={self.source!r}, is_demo={self.is_demo})"
        )

    def counts(self) -> pd.Series:
        """Number of images per class (index: class name, in class order)."""
        c = np.bincount(self.labels, minlength=len(self.class_names))
        return pd.Series(c, index=list(self.class_names), name="n")

    def to_patches(self, size: int = 50, stride: int | None = None) -> "KatherData":
        """Cut every image into ``size`` x ``size`` sub-patches (see :func:`cut_patches`).

        Labels, tile ids and slide ids are repeated for every patch, so a split grouped by
        ``tile_ids`` keeps all patches of one tile on the same side.
        """
        patches, src, idx = cut_patches(self.images, size, stride)
        table = self.table.iloc[src].reset_index(drop=True)
        table["patch"] = idx
        return replace(
            self,
            images=patches,
            labels=self.labels[src],
            tile_ids=self.tile_ids[src],
            slide_ids=self.slide_ids[src],
            table=table,
        )

    def subset(self, mask_or_index) -> "KatherData":
        """A new :class:`KatherData` with the selected rows (boolean mask or integer index)."""
        idx = np.arange(len(self))[mask_or_index]
        return replace(
            self,
            images=self.images[idx],
            labels=self.labels[idx],
            tile_ids=self.tile_ids[idx],
            slide_ids=self.slide_ids[idx],
            table=self.table.iloc[idx].reset_index(drop=True),
        )


class KatherLocation(NamedTuple):
    """Result of :func:`find_kather`: the tile root folder, a description, demo flag."""

    root: Path
    source: str
    is_demo: bool
    banner: str | None = None


# --------------------------------------------------------------------------------------------
# layout


def _class_of_folder(name: str) -> int | None:
    """Label of a class folder name such as ``01_TUMOR`` (case-insensitive), else None."""
    m = _FOLDER_RE.match(name)
    if not m:
        return None
    cls = m.group(2).upper()
    return CLASS_NAMES.index(cls) if cls in CLASS_NAMES else None


def _looks_like_class_folder(name: str) -> bool:
    return _FOLDER_RE.match(name) is not None


def _is_tile_root(path: Path) -> bool:
    try:
        return any(p.is_dir() and _class_of_folder(p.name) is not None for p in path.iterdir())
    except OSError:
        return False


def locate_tile_root(path: str | os.PathLike, max_depth: int = 4) -> Path | None:
    """The folder under ``path`` that holds the class folders ``01_TUMOR`` ... ``08_EMPTY``.

    ``path`` itself, or a folder below it (breadth-first, at most ``max_depth`` levels), so
    the Zenodo zip, the twice-nested Kaggle copy
    (``Kather_texture_2016_image_tiles_5000/Kather_texture_2016_image_tiles_5000/``) and a
    kagglehub version folder all work. Folders named ``Kather_texture_2016_image_tiles_5000``
    are searched first. Returns None when nothing is found.
    """
    path = Path(path).expanduser()
    if not path.is_dir():
        return None
    level = [path]
    for _ in range(max_depth + 1):
        nxt: list[Path] = []
        for d in level:
            if _is_tile_root(d):
                return d
            try:
                subs = sorted(p for p in d.iterdir() if p.is_dir() and not p.name.startswith((".", "__")))
            except OSError:
                continue
            subs.sort(key=lambda p: p.name != TILES_DIRNAME)  # the expected name first
            nxt.extend(subs)
        level = nxt
        if not level:
            break
    return None


def _parse_name(name: str) -> dict:
    m = _NAME_RE.match(name)
    if not m:
        stem = Path(name).stem
        return {"slide": stem, "image": stem, "row": -1, "col": -1}
    return {"slide": m.group("slide"), "image": m.group("image"),
            "row": int(m.group("row")), "col": int(m.group("col"))}


def index_kather(root: str | os.PathLike) -> pd.DataFrame:
    """One row per tile file under ``root`` (a tile root or a folder above one).

    Returns a DataFrame sorted by label then path with columns path (str), folder,
    class_name, label (int 0-7), slide, image, row, col (parsed from the original file
    names; row = col = -1 when a name does not follow that pattern).

    Raises :class:`~helpers._common.DataError` when no class folders are found, a folder
    looks like a class folder but is not one of the eight (e.g. ``09_MUSCLE``), or a class
    folder is missing or holds no ``.tif`` files.
    """
    root_in = Path(root).expanduser()
    if not root_in.exists():
        raise DataError(f"Kather data folder {root_in} does not exist. {HOW_TO_GET}")
    tile_root = locate_tile_root(root_in)
    if tile_root is None and root_in.is_file():
        raise DataError(
            f"{root_in} is a file, not a folder"
            + (" — unzip it first and give the folder." if root_in.suffix.lower() == ".zip" else ".")
        )
    if tile_root is None:
        raise DataError(
            f"No Kather class folders ({CLASS_FOLDERS[0]} ... {CLASS_FOLDERS[-1]}) found under "
            f"{root_in}. Expected the layout {TILES_DIRNAME}/<NN_CLASS>/*.tif. {HOW_TO_GET}"
        )
    rows = []
    found: dict[int, str] = {}
    for d in sorted(tile_root.iterdir()):
        if not d.is_dir() or d.name.startswith((".", "__")):
            continue
        label = _class_of_folder(d.name)
        if label is None:
            if _looks_like_class_folder(d.name):
                raise DataError(
                    f"Unknown class folder {d.name!r} in {tile_root}: the Kather 2016 classes are "
                    f"{', '.join(CLASS_FOLDERS)}. Remove or rename it."
                )
            continue  # unrelated folder, e.g. a notebook checkpoint folder
        if label in found:
            raise DataError(
                f"Two folders for class {CLASS_NAMES[label]} in {tile_root}: {found[label]!r} and {d.name!r}."
            )
        found[label] = d.name
        files = sorted(
            f for f in d.iterdir()
            if f.is_file() and f.suffix.lower() in TIFF_SUFFIXES and not f.name.startswith(".")
        )
        if not files:
            raise DataError(f"Class folder {d} holds no .tif tiles (empty class {CLASS_NAMES[label]}).")
        for f in files:
            rows.append({"path": str(f), "folder": d.name, "class_name": CLASS_NAMES[label],
                         "label": label, **_parse_name(f.name)})
    missing = [CLASS_FOLDERS[i] for i in range(len(CLASS_NAMES)) if i not in found]
    if missing:
        raise DataError(
            f"Class folder(s) {', '.join(missing)} missing in {tile_root}; all eight Kather 2016 "
            f"classes are needed ({', '.join(CLASS_FOLDERS)})."
        )
    table = pd.DataFrame(rows).sort_values(["label", "path"], kind="stable").reset_index(drop=True)
    table["label"] = table["label"].astype(np.int64)
    return table


# --------------------------------------------------------------------------------------------
# reading


def _read_one(path: str, size: int) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        im.load()
        if im.mode != "RGB":
            im = im.convert("RGB")
        if im.size != (size, size):
            im = im.resize((size, size), Image.Resampling.LANCZOS, reducing_gap=2.0)
        return np.asarray(im, dtype=np.uint8)


def read_tiles(paths: Sequence[str], size: int | None = None, progress: bool = True
               ) -> tuple[np.ndarray, np.ndarray]:
    """Decode tiles into one uint8 array.

    Parameters
    ----------
    paths : file paths (TIFF, or anything Pillow reads).
    size : output side length; tiles are resized (Lanczos, anti-aliased) to ``size`` x
        ``size``. None: 150 (the native size).
    progress : show a progress bar for more than 200 files.

    Returns
    -------
    images : uint8 (m, size, size, 3), the readable files only, in order.
    ok : bool (len(paths),), False for files that could not be decoded; those are skipped
        with one warning that names how many and the first few.
    """
    size = int(size or TILE_SIZE)
    out = np.empty((len(paths), size, size, 3), dtype=np.uint8)
    ok = np.zeros(len(paths), dtype=bool)
    bad: list[str] = []
    it = paths
    if progress and len(paths) > 200:
        from tqdm.auto import tqdm

        it = tqdm(paths, desc="reading Kather tiles", unit="tile")
    for i, p in enumerate(it):
        try:
            with warnings.catch_warnings():  # Pillow's own warnings about broken headers
                warnings.simplefilter("ignore")
                out[i] = _read_one(str(p), size)
            ok[i] = True
        except Exception as exc:  # noqa: BLE001 - any decoder error means "corrupt file"
            bad.append(f"{Path(p).name} ({type(exc).__name__})")
    if bad:
        warnings.warn(
            f"Skipped {len(bad)} unreadable tile(s) of {len(paths)}: {', '.join(bad[:5])}"
            + (" ..." if len(bad) > 5 else ""),
            stacklevel=2,
        )
    return out[ok], ok


def cut_patches(images: np.ndarray, size: int = 50, stride: int | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut each image into a grid of square sub-patches.

    Parameters
    ----------
    images : array (n, h, w, c)
    size : patch side length (<= h and w).
    stride : step between patches; default ``size`` (no overlap). Patches that would leave
        the image are not made (a 150 px tile gives 3 x 3 = 9 patches of 50 px).

    Returns
    -------
    patches : array (n * k, size, size, c), same dtype, patches of image 0 first.
    source : int64 (n * k,), index of the image each patch comes from.
    index : int64 (n * k,), patch number within its image (row-major).
    """
    images = np.asarray(images)
    n, h, w = images.shape[:3]
    stride = int(stride or size)
    if size > h or size > w or size < 1 or stride < 1:
        raise ValueError(f"patch size {size} (stride {stride}) does not fit images of {h}x{w}")
    ys = range(0, h - size + 1, stride)
    xs = range(0, w - size + 1, stride)
    k = len(ys) * len(xs)
    patches = np.empty((n * k,) + (size, size) + images.shape[3:], dtype=images.dtype)
    j = 0
    for y in ys:
        for x in xs:
            patches[j::k] = images[:, y:y + size, x:x + size]
            j += 1
    source = np.repeat(np.arange(n, dtype=np.int64), k)
    index = np.tile(np.arange(k, dtype=np.int64), n)
    return patches, source, index


# --------------------------------------------------------------------------------------------
# finding / downloading


def _kagglehub_root() -> Path | None:
    import kagglehub

    p = kagglehub.dataset_download(KAGGLE_HANDLE)
    return locate_tile_root(p)


def _zenodo_root() -> Path | None:
    import pooch

    dest = cache_dir("kather2016")
    files = pooch.retrieve(
        url=ZENODO_URL,
        known_hash=ZENODO_MD5,
        fname=ZENODO_FILE,
        path=dest,
        processor=pooch.Unzip(extract_dir=TILES_DIRNAME + ".unzip"),
        progressbar=True,
    )
    root = locate_tile_root(dest / (TILES_DIRNAME + ".unzip"))
    if root is None and files:
        root = locate_tile_root(Path(os.path.commonpath([str(f) for f in files])))
    return root


def _short(exc: BaseException, n: int = 160) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= n else text[: n - 3] + "..."


def download_kather(*, kaggle: bool = True, zenodo: bool = True) -> KatherLocation:
    """Fetch the 5,000 tiles: kagglehub (pinned version) first, then Zenodo (MD5-checked).

    Raises :class:`~helpers._common.DataError` naming every attempt and the ways to get the
    data when both fail (e.g. offline).
    """
    errors = []
    if kaggle:
        try:
            root = _kagglehub_root()
            if root is not None:
                return KatherLocation(root, f"Kaggle {KAGGLE_HANDLE} via kagglehub ({root})", False)
            errors.append(f"kagglehub {KAGGLE_HANDLE}: no tile folders in the download")
        except Exception as exc:  # noqa: BLE001 - network, auth, missing package ...
            errors.append(f"kagglehub {KAGGLE_HANDLE}: {_short(exc)}")
    if zenodo:
        try:
            root = _zenodo_root()
            if root is not None:
                return KatherLocation(root, f"Zenodo record {ZENODO_RECORD} ({root})", False)
            errors.append(f"Zenodo {ZENODO_FILE}: no tile folders in the zip")
        except Exception as exc:  # noqa: BLE001
            errors.append(f"Zenodo {ZENODO_URL}: {_short(exc)}")
    raise DataError(
        "Could not download the Kather 2016 tiles (offline?). Tried:\n  - "
        + "\n  - ".join(errors or ["nothing (downloads disabled)"])
        + f"\nWays to get the data: {HOW_TO_GET}"
    )


def _prepared_root() -> Path | None:
    base = repo_data_dir()
    for name in PREPARED_DIRNAMES:
        root = locate_tile_root(base / name)
        if root is not None:
            return root
    return None


def _kagglehub_cached_root() -> Path | None:
    """The pinned kagglehub download if it is already in the kagglehub cache (no network)."""
    found = kagglehub_cached(KAGGLE_HANDLE)
    return locate_tile_root(found) if found else None


def _zenodo_cached_root() -> Path | None:
    p = cache_dir("kather2016") / (TILES_DIRNAME + ".unzip")
    return locate_tile_root(p) if p.is_dir() else None


def demo_kather_dir(n_per_class: int | None = None) -> Path:
    """The tile root of the cached synthetic demo set (made on first use, no banner)."""
    return _demo_root(n_per_class)


def _demo_root(n_per_class: int | None = None) -> Path:
    """Tile root of the cached demo set (made once, atomically, in the cache folder)."""
    import shutil
    import tempfile

    n = n_per_class or DEMO_PER_CLASS
    parent = cache_dir("kather2016")
    base = parent / f"demo_v{_DEMO_VERSION}_n{n}"
    if not (base / "COMPLETE").exists():
        tmp = Path(tempfile.mkdtemp(prefix=".demo-", dir=parent))
        make_demo_kather(tmp, n_per_class=n)
        (tmp / "COMPLETE").write_text("synthetic demo tiles, helpers.kather.make_demo_kather\n")
        try:
            if base.exists():  # a broken earlier attempt
                shutil.rmtree(base, ignore_errors=True)
            tmp.rename(base)
        except OSError:  # another process was faster
            shutil.rmtree(tmp, ignore_errors=True)
    return base / TILES_DIRNAME


def find_kather(path: str | os.PathLike | None = None, *, allow_download: bool = True,
                allow_demo: bool = True, demo_per_class: int | None = None) -> KatherLocation:
    """Where the Kather tiles are: see the module docstring for the order.

    An explicit ``path`` or ``$HISTO_KATHER_DIR`` that holds no tiles is an error
    (:class:`~helpers._common.DataError`), not a reason to fall back. When nothing is found
    and the downloads fail or are not allowed, synthetic demo tiles are made (cached) and a
    :class:`~helpers._common.DemoDataWarning` banner is shown; its text is in ``.banner``.
    With ``allow_demo=False`` that case raises :class:`~helpers._common.DataError` instead.
    """
    if path is not None:
        p = Path(path).expanduser()
        root = locate_tile_root(p)
        if root is None:
            index_kather(p)  # raises with the precise reason
        return KatherLocation(root, f"folder {root}", False)
    if demo_forced():
        reason = "HISTO_DEMO is set"
        banner = warn_demo("Kather 2016 colorectal tissue tiles", reason, HOW_TO_GET)
        root = _demo_root(demo_per_class)
        return KatherLocation(root, f"synthetic demo tiles ({reason})", True, banner)
    env = os.environ.get(ENV_DIR, "").strip()
    if env:
        p = Path(env).expanduser()
        root = locate_tile_root(p)
        if root is None:
            try:
                index_kather(p)
            except DataError as exc:
                raise DataError(f"${ENV_DIR}={env}: {exc}") from None
        return KatherLocation(root, f"${ENV_DIR} ({root})", False)
    root = _prepared_root()
    if root is not None:
        return KatherLocation(root, f"prepared copy in data/ ({root})", False)
    root = _kagglehub_cached_root()
    if root is not None:
        return KatherLocation(root, f"Kaggle {KAGGLE_HANDLE}, kagglehub cache ({root})", False)
    root = _zenodo_cached_root()
    if root is not None:
        return KatherLocation(root, f"Zenodo record {ZENODO_RECORD}, cached ({root})", False)
    if allow_download:
        try:
            return download_kather()
        except DataError as exc:
            if not allow_demo:
                raise
            reason = "no Kather data found and the download failed:\n" + str(exc).split("\nWays")[0]
    else:
        reason = "no Kather data found and downloads are off (allow_download=False)"
        if not allow_demo:
            raise DataError(f"No Kather 2016 data found. Ways to get it: {HOW_TO_GET}")
    banner = warn_demo("Kather 2016 colorectal tissue tiles", reason, HOW_TO_GET)
    root = _demo_root(demo_per_class)
    return KatherLocation(root, "synthetic demo tiles (no real data found)", True, banner)


def kather_status() -> tuple[bool, str]:
    """``(found, detail)`` for ``python -m helpers check``: whether real Kather tiles are
    available without network, and one line saying where (or how to get them).
    See :func:`kather_status_info` for the details as a dict."""
    st = kather_status_info()
    if st["found"]:
        counts = "/".join(str(v) for v in st["per_class"].values())
        detail = f"{st['n_tiles']} tiles ({counts} per class) from {st['source']}: {st['root']}"
        if demo_forced():
            detail += " (but HISTO_DEMO is set: the notebooks use demo tiles)"
        return True, detail
    detail = "not found"
    if st["problem"]:
        detail += f" ({st['problem']})"
    detail += f"; notebooks would try a download, else use synthetic demo tiles. To get it: {HOW_TO_GET}"
    return False, detail


def kather_status_info() -> dict:
    """Where Kather data would be found, without network and without reading images.

    Returns a dict with keys ``found`` (bool), ``source`` (str), ``root`` (str or None),
    ``n_tiles`` (int), ``per_class`` (dict class -> count), ``problem`` (str or None, why a
    configured folder is unusable) and ``how_to_get`` (str). For ``python -m helpers check``.
    """
    out = {"found": False, "source": None, "root": None, "n_tiles": 0, "per_class": {},
           "problem": None, "how_to_get": HOW_TO_GET}
    candidates = []
    if demo_forced():
        out["source"] = "HISTO_DEMO is set: synthetic demo tiles would be used"
    env = os.environ.get(ENV_DIR, "").strip()
    if env:
        candidates.append((f"${ENV_DIR}", Path(env).expanduser()))
    for label, fn in (("prepared copy in data/", _prepared_root),
                      ("kagglehub cache", _kagglehub_cached_root),
                      ("Zenodo download cache", _zenodo_cached_root)):
        r = fn()
        if r is not None:
            candidates.append((label, r))
    for label, p in candidates:
        try:
            table = index_kather(p)
        except DataError as exc:
            out["problem"] = f"{label}: {exc}"
            if label.startswith("$"):
                break  # an explicit setting that does not work is what counts
            continue
        out.update(found=True, root=str(locate_tile_root(p)), n_tiles=len(table),
                   per_class=table["class_name"].value_counts().reindex(CLASS_NAMES).to_dict())
        if not demo_forced():
            out["source"] = label
        out["problem"] = None
        break
    if not out["found"] and out["source"] is None:
        out["source"] = "none: demo tiles unless a download succeeds"
    return out


# --------------------------------------------------------------------------------------------
# loading


def _decode_cached(table: pd.DataFrame, size: int, progress: bool) -> tuple[np.ndarray, np.ndarray]:
    """read_tiles with an on-disk cache for large sets (> 500 tiles)."""
    paths = table["path"].tolist()
    if len(paths) <= 500:
        return read_tiles(paths, size, progress)
    stats = []
    for p in paths:
        try:
            st = os.stat(p)
            stats.append((p, st.st_size, int(st.st_mtime)))
        except OSError:
            stats.append((p, -1, -1))
    key = stable_hash("kather-decoded-v1", size, stats)
    f = cache_dir("kather2016", "decoded") / f"{key}.npz"
    if f.exists():
        try:
            with np.load(f) as z:
                return z["images"], z["ok"]
        except Exception:  # noqa: BLE001 - a broken cache file is rebuilt
            pass
    images, ok = read_tiles(paths, size, progress)
    try:
        tmp = f.with_suffix(".tmp.npz")
        np.savez(tmp, images=images, ok=ok)
        tmp.replace(f)
    except OSError:
        pass
    return images, ok


def load_kather(path: str | os.PathLike | None = None, *, tile_size: int | None = None,
                max_per_class: int | None = None, seed: int = 0, allow_download: bool = True,
                allow_demo: bool = True, patch_size: int | None = None,
                progress: bool = True) -> KatherData:
    """Load the Kather 2016 tiles (real if found, else synthetic demo tiles with a banner).

    Parameters
    ----------
    path : a folder holding the tile layout (or a folder above it). None: see
        :func:`find_kather` for the search order.
    tile_size : resize tiles to ``tile_size`` x ``tile_size`` (None: 150, the native size).
    max_per_class : at most this many tiles per class, drawn at random (``seed``).
    seed : seed for ``max_per_class``.
    allow_download : try kagglehub / Zenodo when no local copy exists.
    allow_demo : fall back to synthetic demo tiles (with a banner) when nothing is found;
        False raises :class:`~helpers._common.DataError` instead.
    patch_size : if set, cut every (resized) tile into non-overlapping sub-patches of this
        size (see :meth:`KatherData.to_patches`).
    progress : progress bar while decoding many tiles.

    Returns
    -------
    KatherData with ``images`` uint8 (n, s, s, 3), ``labels`` (n,), ``tile_ids`` (n,), etc.
    Unreadable (corrupt) tiles are skipped with a warning; a class left without any readable
    tile is an error (:class:`~helpers._common.DataError`).
    """
    loc = find_kather(path, allow_download=allow_download, allow_demo=allow_demo)
    table = index_kather(loc.root)
    if max_per_class is not None:
        rng = np.random.default_rng(seed)
        keep = []
        for _, g in table.groupby("label", sort=True):
            idx = g.index.to_numpy()
            if len(idx) > max_per_class:
                idx = np.sort(rng.choice(idx, size=max_per_class, replace=False))
            keep.append(idx)
        table = table.loc[np.concatenate(keep)].reset_index(drop=True)
    size = int(tile_size or TILE_SIZE)
    images, ok = _decode_cached(table, size, progress)
    table = table[ok].reset_index(drop=True)
    empty = [CLASS_NAMES[i] for i in range(len(CLASS_NAMES)) if not (table["label"] == i).any()]
    if empty:
        raise DataError(f"No readable tiles left for class(es) {', '.join(empty)} in {loc.root}.")
    table["tile_id"] = np.arange(len(table), dtype=np.int64)
    table["patch"] = 0
    data = KatherData(
        images=images,
        labels=table["label"].to_numpy(np.int64),
        class_names=CLASS_NAMES,
        tile_ids=table["tile_id"].to_numpy(np.int64),
        slide_ids=table["slide"].to_numpy(str),
        table=table,
        source=loc.source,
        is_demo=loc.is_demo,
        root=loc.root,
        banner=loc.banner,
    )
    if patch_size:
        data = data.to_patches(patch_size)
    return data


# --------------------------------------------------------------------------------------------
# synthetic demo tiles

# Optical density (R, G, B) per unit of stain, tuned by eye so that the demo classes get
# roughly the colours of the real tiles (hematoxylin: blue-purple, eosin: red-pink).
_H = np.array([0.85, 0.95, 0.45])
_E = np.array([0.25, 0.95, 0.65])


def _smooth_noise(rng, shape, sigma):
    from scipy.ndimage import gaussian_filter

    a = gaussian_filter(rng.standard_normal(shape), sigma, mode="wrap")
    return (a - a.mean()) / (a.std() + 1e-9)


def _fibres(rng, shape, angle, along=10.0, across=0.8):
    """Oriented fibre texture in [-1, 1]-ish, fibres at ``angle`` radians."""
    from scipy.ndimage import gaussian_filter, rotate

    h, w = shape
    big = int(np.ceil(np.hypot(h, w))) + 4
    a = gaussian_filter(rng.standard_normal((big, big)), (across, along), mode="wrap")
    a = rotate(a, np.degrees(angle), reshape=False, order=1, mode="wrap")
    y0, x0 = (big - h) // 2, (big - w) // 2
    a = a[y0:y0 + h, x0:x0 + w]
    return (a - a.mean()) / (a.std() + 1e-9)


def _nuclei(rng, shape, n, r_range, elong=(1.0, 1.0), angle=None, jitter=0.15, mask=None,
            centers=None):
    """Hematoxylin map with ``n`` filled ellipses (nuclei), chromatin-textured."""
    from skimage.draw import ellipse

    h, w = shape
    out = np.zeros(shape)
    if centers is None:
        if mask is not None:
            ys, xs = np.nonzero(mask)
            if len(ys) == 0:
                return out
            pick = rng.integers(0, len(ys), n)
            centers = np.stack([ys[pick], xs[pick]], 1).astype(float)
        else:
            centers = rng.uniform(0, [h, w], size=(n, 2))
    for cy, cx in centers:
        r = rng.uniform(*r_range)
        e = rng.uniform(*elong)
        a = angle + rng.normal(0, 0.2) if angle is not None else rng.uniform(0, np.pi)
        rr, cc = ellipse(cy, cx, r * e, r / e, shape=shape, rotation=a)
        out[rr, cc] = np.maximum(out[rr, cc], rng.uniform(1 - jitter, 1 + jitter))
    return out


def _voronoi_edges(rng, shape, n_cells, width):
    """1 on the borders between random cells (a fat-cell / gland-like mesh), else 0."""
    from scipy.spatial import cKDTree

    h, w = shape
    # jittered grid: cells of similar size, no two seeds almost on top of each other
    k = max(1, int(round(np.sqrt(n_cells))))
    step = np.array([h, w]) / k
    gy, gx = np.mgrid[0:k + 2, 0:k + 2] - 1
    seeds = (np.stack([gy.ravel(), gx.ravel()], 1) + 0.5 + rng.uniform(-0.35, 0.35, (gy.size, 2))) * step
    yy, xx = np.mgrid[0:h, 0:w]
    d, _ = cKDTree(seeds).query(np.stack([yy.ravel(), xx.ravel()], 1), k=2)
    gap = (d[:, 1] - d[:, 0]).reshape(h, w)
    return np.clip(1 - gap / width, 0, 1)


def _to_rgb(hema, eosin, rng, background=(0.02, 0.03, 0.02), blur=0.6):
    """Stain concentrations -> uint8 RGB via Beer-Lambert, with slight blur and sensor noise."""
    from scipy.ndimage import gaussian_filter

    hema = gaussian_filter(np.clip(hema, 0, None), blur)
    eosin = gaussian_filter(np.clip(eosin, 0, None), blur)
    # per-tile stain variation (batch effects between slides)
    hv = _H * rng.uniform(0.85, 1.15, 3)
    ev = _E * rng.uniform(0.85, 1.15, 3)
    strength = rng.uniform(0.75, 1.25)  # staining intensity differs from slide to slide
    od = strength * (hema[..., None] * hv + eosin[..., None] * ev) + np.asarray(background)
    rgb = 255.0 * np.exp(-od)
    rgb += rng.normal(0, 2.0, rgb.shape)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def _demo_tile(label: int, rng: np.random.Generator, size: int = TILE_SIZE) -> np.ndarray:
    shape = (size, size)
    s = size / 150.0  # scale lengths with the tile size
    cls = CLASS_NAMES[label]
    if cls == "TUMOR":
        # crowded, large, pleomorphic nuclei on purple-pink cytoplasm; a few small lumina
        cyto = 0.55 + 0.12 * _smooth_noise(rng, shape, 4 * s)
        nuc = _nuclei(rng, shape, int(rng.integers(55, 75)), (5.5 * s, 9 * s), elong=(1.0, 1.5))
        chrom = 0.9 + 0.35 * _smooth_noise(rng, shape, 1.0)
        lumen = _smooth_noise(rng, shape, 9 * s) > 1.5
        hema = 0.5 + nuc * chrom * 1.2
        eosin = 1.3 * cyto / 0.55
        hema[lumen] *= 0.1
        eosin[lumen] *= 0.1
    elif cls == "STROMA":
        # dense pink collagen fibres in one direction, few spindle nuclei along them
        ang = rng.uniform(0, np.pi)
        fib = _fibres(rng, shape, ang, along=12 * s, across=1.0 * s)
        eosin = 1.2 + 0.3 * fib
        nuc = _nuclei(rng, shape, int(rng.integers(6, 12)), (3 * s, 4 * s), elong=(2.2, 3.2),
                      angle=-ang + np.pi / 2)
        gaps = fib < -1.6
        eosin[gaps] *= 0.3
        hema = 0.12 + 1.3 * nuc
    elif cls == "COMPLEX":
        # looser, wavy stroma with scattered single cells of several kinds and some spaces
        ang = rng.uniform(0, np.pi)
        fib = _fibres(rng, shape, ang, along=5 * s, across=1.2 * s)
        patch = _smooth_noise(rng, shape, 12 * s)
        eosin = 1.0 + 0.3 * fib + 0.2 * patch
        small = _nuclei(rng, shape, int(rng.integers(15, 25)), (2.5 * s, 3.5 * s))
        big = _nuclei(rng, shape, int(rng.integers(5, 10)), (5 * s, 7 * s), elong=(1.0, 1.6))
        spaces = _smooth_noise(rng, shape, 5 * s) > 1.3
        hema = 0.3 + 1.4 * small + 1.0 * big
        eosin[spaces] *= 0.15
        hema[spaces] *= 0.2
    elif cls == "LYMPHO":
        # sheets of small, round, very dark nuclei with little cytoplasm
        n = int(rng.integers(330, 420) * s * s)
        nuc = _nuclei(rng, shape, n, (3.3 * s, 4.5 * s), elong=(1.0, 1.15), jitter=0.1)
        hema = 0.25 + 1.5 * nuc + 0.15 * _smooth_noise(rng, shape, 10 * s)
        eosin = 0.3 + 0.1 * _smooth_noise(rng, shape, 3 * s)
    elif cls == "DEBRIS":
        # necrosis / haemorrhage / mucus: blotchy pale-pink and lilac areas, nuclear dust
        blot = _smooth_noise(rng, shape, 6 * s)
        blot2 = _smooth_noise(rng, shape, 2 * s)
        eosin = np.clip(0.4 + 0.3 * blot + 0.1 * blot2, 0.03, None)
        dust = _nuclei(rng, shape, int(rng.integers(40, 80)), (0.8 * s, 1.8 * s))
        hema = 0.2 + 0.15 * _smooth_noise(rng, shape, 8 * s) + 0.9 * dust
        holes = blot < -1.1
        eosin[holes] *= 0.2
        hema[holes] *= 0.3
    elif cls == "MUCOSA":
        # glands: pale mucin-filled cells in a ring, nuclei at the ring's outside (basal)
        yy, xx = np.mgrid[0:size, 0:size]
        n_gl = int(rng.integers(2, 4))
        centers = rng.uniform(-10 * s, size + 10 * s, size=(n_gl, 2))
        radii = rng.uniform(45 * s, 65 * s, n_gl)
        rel = np.full(shape, np.inf)  # distance to the nearest gland centre / its radius
        for (cy, cx), r in zip(centers, radii):
            rel = np.minimum(rel, np.hypot(yy - cy, xx - cx) / r)
        inside = rel < 1.0
        # basal nuclei: on a circle of 0.88 r
        pts = []
        for (cy, cx), r in zip(centers, radii):
            k = int(2 * np.pi * r / (5.5 * s))
            t = np.linspace(0, 2 * np.pi, k, endpoint=False) + rng.uniform(0, 1)
            rr = r * rng.uniform(0.84, 0.92, k)
            pts.append(np.stack([cy + rr * np.sin(t), cx + rr * np.cos(t)], 1))
        pts = np.concatenate(pts)
        pts = pts[(pts[:, 0] > -5) & (pts[:, 0] < size + 5) & (pts[:, 1] > -5) & (pts[:, 1] < size + 5)]
        nuc = _nuclei(rng, shape, len(pts), (2.8 * s, 3.6 * s), elong=(1.4, 2.0), centers=pts)
        cells = _voronoi_edges(rng, shape, int(120 * s * s), 1.8 * s) * inside * (rel < 0.8)
        lamina = ~inside
        lp_nuc = _nuclei(rng, shape, 25, (2.5 * s, 3.5 * s), mask=lamina)
        hema = np.where(inside, 0.35 + 0.35 * cells, 0.35) + 1.4 * nuc + 1.2 * lp_nuc * lamina
        eosin = np.where(inside, 0.25 + 0.2 * cells, 0.8 + 0.15 * _smooth_noise(rng, shape, 3 * s))
        lumen = rel < 0.2
        hema[lumen] *= 0.2
        eosin[lumen] *= 0.2
    elif cls == "ADIPOSE":
        # large empty fat cells with thin pink membranes
        edges = _voronoi_edges(rng, shape, int(rng.integers(8, 14) * s * s), 2.0 * s)
        eosin = 0.03 + 0.55 * edges
        hema = 0.015 + 0.12 * edges
        few = _nuclei(rng, shape, int(rng.integers(0, 3)), (2.5 * s, 3.5 * s), elong=(1.5, 2.5),
                      mask=edges > 0.5)
        hema = hema + 0.9 * few
    else:  # EMPTY
        # glass: nearly white, faint uneven tint, rare specks
        hema = 0.022 + 0.008 * _smooth_noise(rng, shape, 20 * s)
        eosin = 0.008 + 0.006 * _smooth_noise(rng, shape, 25 * s)
        specks = _nuclei(rng, shape, int(rng.integers(0, 3)), (0.6 * s, 1.5 * s))
        hema = hema + 0.5 * specks
    return _to_rgb(hema, eosin, rng)


def make_demo_kather(root: str | os.PathLike, n_per_class: int = 12, *, size: int = TILE_SIZE,
                     seed: int = 0, n_slides: int = 4) -> Path:
    """Write a synthetic Kather-like data set in the exact layout and return its tile root.

    ``root/Kather_texture_2016_image_tiles_5000/<NN_CLASS>/<id>_DEMO-HE-<s>_<i>.tif_Row_<r>_Col_<c>.tif``
    with ``n_per_class`` RGB TIFF tiles of ``size`` x ``size`` per class. The eight classes are
    visibly different H&E-like textures (tumour epithelium, stroma, complex stroma, lymphocytes,
    debris, mucosal glands, fat, empty glass), built from hematoxylin and eosin density maps.
    Deterministic for a given ``seed``. Tiles are assigned round-robin to ``n_slides`` fake
    slides so slide-grouped splits can be tried. NOT real tissue: for tests and offline demos.
    """
    from PIL import Image

    tile_root = Path(root).expanduser() / TILES_DIRNAME
    for label, folder in enumerate(CLASS_FOLDERS):
        d = tile_root / folder
        d.mkdir(parents=True, exist_ok=True)
        for i in range(n_per_class):
            rng = np.random.default_rng([seed, label, i])
            tile = _demo_tile(label, rng, size)
            slide = i % n_slides + 1
            name = (f"{label * 4096 + i:04X}_DEMO-HE-{slide:02d}_{i // n_slides:03d}.tif"
                    f"_Row_{1 + 150 * (i // 3)}_Col_{1 + 150 * (i % 3)}.tif")
            Image.fromarray(tile).save(d / name, compression="tiff_lzw")
    return tile_root


# --------------------------------------------------------------------------------------------
# analysis and figures for the multi-class notebook


def tile_predictions(proba: np.ndarray, tile_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Tile-level predictions from patch-level class probabilities.

    Parameters
    ----------
    proba : float array (n_patches, n_classes), e.g. ``model.predict_proba(X)`` (or any
        per-class scores, such as ``decision_function``)
    tile_ids : int array (n_patches,), the tile each patch was cut from

    Returns
    -------
    tiles : int array (m,), the distinct tile ids, sorted
    pred : int array (m,), per tile the class with the highest mean probability (score) over
        its patches
    """
    proba = np.asarray(proba, dtype=float)
    tile_ids = np.asarray(tile_ids)
    tiles, inv = np.unique(tile_ids, return_inverse=True)
    sums = np.zeros((len(tiles), proba.shape[1]))
    np.add.at(sums, inv, proba)
    return tiles, sums.argmax(1)


def top_confusions(y_true, y_pred, class_names: Sequence[str] = CLASS_NAMES, k: int = 5
                   ) -> pd.DataFrame:
    """The ``k`` most frequent mistakes, as a DataFrame.

    Columns: true, predicted (class names), n (count), share_of_true (n / number of items of the
    true class). Sorted by share_of_true, then n; only pairs with n > 0.
    """
    from sklearn.metrics import confusion_matrix

    n_cls = len(class_names)
    cm = confusion_matrix(y_true, y_pred, labels=list(range(n_cls)))
    support = cm.sum(1)
    rows = [
        {"true": class_names[i], "predicted": class_names[j], "n": int(cm[i, j]),
         "share_of_true": cm[i, j] / support[i]}
        for i in range(n_cls) for j in range(n_cls) if i != j and cm[i, j] > 0
    ]
    df = pd.DataFrame(rows, columns=["true", "predicted", "n", "share_of_true"])
    return df.sort_values(["share_of_true", "n"], ascending=False).head(k).reset_index(drop=True)


def plot_tile_patches(tile: np.ndarray, size: int = 50, *, title: str | None = None):
    """One tile with the grid of its sub-patches drawn on it, next to the patches themselves.

    tile : uint8 (H, W, 3). Returns the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    patches, _, _ = cut_patches(tile[None], size)
    h, w = tile.shape[:2]
    ny, nx = h // size, w // size
    fig = plt.figure(figsize=(7.5, 3.4), layout="constrained")
    sub = fig.subfigures(1, 2, width_ratios=[1, 1])
    ax = sub[0].subplots()
    ax.imshow(tile)
    for k in range(1, ny):
        ax.axhline(k * size - 0.5, color="yellow", lw=1.5)
    for k in range(1, nx):
        ax.axvline(k * size - 0.5, color="yellow", lw=1.5)
    ax.set_title(f"one tile ({h}x{w} px)")
    ax.set_xticks([])
    ax.set_yticks([])
    axes = sub[1].subplots(ny, nx, squeeze=False)
    for i, a in enumerate(axes.ravel()):
        a.imshow(patches[i])
        a.set_xticks([])
        a.set_yticks([])
    sub[1].suptitle(f"{len(patches)} patches of {size}x{size} px, one group")
    if title:
        fig.suptitle(title)
    return fig


def plot_validation_curve(param_values, train_scores, val_scores, *, xlabel: str,
                          ylabel: str = "balanced accuracy", log: bool = True, ax=None,
                          title: str | None = None, chosen=None):
    """Mean +- std of training and validation scores against a hyperparameter.

    param_values : sequence of numbers (m,); train_scores, val_scores : arrays (m, n_folds)
    as returned by :func:`sklearn.model_selection.validation_curve`. ``chosen``: the value to
    mark (default: the best mean validation score). Returns the Figure.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 3.6), layout="constrained")
    else:
        fig = ax.figure
    x = np.asarray(param_values, dtype=float)
    for scores, name, color in ((train_scores, "training", "#0072B2"),
                                (val_scores, "validation (unseen tiles)", "#D55E00")):
        m, sd = np.mean(scores, 1), np.std(scores, 1)
        ax.plot(x, m, "o-", color=color, label=name)
        ax.fill_between(x, m - sd, m + sd, color=color, alpha=0.2)
    if chosen is None:
        chosen, label = x[int(np.argmax(np.mean(val_scores, 1)))], "best validation"
    else:
        label = f"chosen: {chosen:g}"
    ax.axvline(float(chosen), color="grey", ls=":", label=label)
    if log:
        ax.set_xscale("log")
    if len(x) <= 9:
        ax.set_xticks(x, [f"{v:g}" for v in x])
        ax.minorticks_off()
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=8, loc="lower left")
    if title:
        ax.set_title(title)
    return fig


def plot_confusion_examples(images: np.ndarray, y_true, y_pred, pairs: pd.DataFrame, *,
                            reference_images: np.ndarray | None = None, reference_labels=None,
                            class_names: Sequence[str] = CLASS_NAMES, n: int = 4, seed: int = 0):
    """For each (true, predicted) pair: ``n`` misclassified images, then ``n`` images that
    really are of the predicted class (from ``reference_images`` / ``reference_labels``,
    e.g. the training set), so one can see why the model mixed them up.

    images : uint8 (m, h, w, 3); y_true, y_pred : int (m,); pairs : DataFrame with columns
    true and predicted (class names), e.g. from :func:`top_confusions`. Returns the Figure.
    """
    import matplotlib.pyplot as plt

    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    rng = np.random.default_rng(seed)
    rows = max(1, len(pairs))
    ncols = 2 * n if reference_images is not None else n
    fig, axes = plt.subplots(rows, ncols, figsize=(1.25 * ncols + 0.4, 1.55 * rows + 0.4),
                             squeeze=False, layout="constrained")
    for r, (_, row) in enumerate(pairs.iterrows()):
        t, p = class_names.index(row["true"]), class_names.index(row["predicted"])
        wrong = np.flatnonzero((y_true == t) & (y_pred == p))
        pick = rng.choice(wrong, size=min(n, len(wrong)), replace=False) if len(wrong) else []
        ref = []
        if reference_images is not None:
            cand = np.flatnonzero(np.asarray(reference_labels) == p)
            ref = rng.choice(cand, size=min(n, len(cand)), replace=False) if len(cand) else []
        for j in range(ncols):
            ax = axes[r, j]
            ax.set_xticks([])
            ax.set_yticks([])
            if j < n and j < len(pick):
                ax.imshow(images[pick[j]])
                for s in ax.spines.values():
                    s.set_edgecolor("#D55E00")
                    s.set_linewidth(2.5)
            elif j >= n and j - n < len(ref):
                ax.imshow(reference_images[ref[j - n]])
                for s in ax.spines.values():
                    s.set_edgecolor("#009E73")
                    s.set_linewidth(2.5)
            else:
                ax.set_axis_off()
        axes[r, 0].set_ylabel(f"{row['true']}\n→ {row['predicted']}", rotation=0, ha="right",
                              va="center", fontsize=9)
        if reference_images is not None:
            axes[r, n].set_title(f"real {row['predicted']}", fontsize=8, loc="left")
        axes[r, 0].set_title(f"{row['true']} called {row['predicted']}", fontsize=8, loc="left")
    return fig


# --------------------------------------------------------------------------------------------
# command line


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m helpers kather {status,download,demo}``."""
    parser = argparse.ArgumentParser(prog="python -m helpers kather",
                                     description="Kather 2016 colorectal texture tiles.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("status", help="where the tiles would be found (no network)")
    dl = sub.add_parser("download", help="download via kagglehub (pinned) or Zenodo (MD5-checked)")
    dl.add_argument("--source", choices=["any", "kaggle", "zenodo"], default="any")
    dm = sub.add_parser("demo", help="write synthetic demo tiles in the Kather layout")
    dm.add_argument("root", help="output folder")
    dm.add_argument("--per-class", type=int, default=12)
    dm.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.cmd == "status":
        st = kather_status_info()
        if st["found"]:
            counts = ", ".join(f"{k} {v}" for k, v in st["per_class"].items())
            print(f"Kather 2016: found, {st['n_tiles']} tiles ({st['source']}: {st['root']})")
            print(f"  per class: {counts}")
        else:
            print(f"Kather 2016: not found ({st['source']})")
            if st["problem"]:
                print(f"  problem: {st['problem']}")
            print(f"  to get it: {st['how_to_get']}")
        return 0 if st["found"] else 1
    if args.cmd == "download":
        try:
            loc = download_kather(kaggle=args.source in ("any", "kaggle"),
                                  zenodo=args.source in ("any", "zenodo"))
        except DataError as exc:
            print(exc)
            return 1
        n = len(index_kather(loc.root))
        print(f"Kather 2016: {n} tiles in {loc.root} ({loc.source})")
        print(f"load_kather() finds it there from now on (or: export {ENV_DIR}={loc.root})")
        return 0
    root = make_demo_kather(args.root, n_per_class=args.per_class, seed=args.seed)
    print(f"Wrote {args.per_class * len(CLASS_NAMES)} synthetic tiles to {root}")
    return 0

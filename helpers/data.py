"""The workshop's data: one registry of sources (:data:`SOURCES`), where data is found (:func:`find_data`),
loading into :class:`PatchData`. IDC: Kaggle *Breast Histopathology Images* (CC0), 50 x 50 RGB PNG patches;
Kather: Zenodo *textures in colorectal cancer histology* (CC BY 4.0), 150 x 150 RGB TIFF tiles. Nothing here
touches the network: downloads happen only in ``python -m helpers prepare --download`` (:mod:`helpers.prepare`).
"""

from __future__ import annotations

import json
import os
import re
import struct
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

#: The pinned sources of both data sets: the one place that names them.
SOURCES = {
    "idc": dict(title="IDC breast histopathology patches", env="HISTO_IDC_DIR", prepared="idc_subset",
                sample="sample/idc", kaggle="paultimothymooney/breast-histopathology-images", kaggle_version=1,
                size="about 3.1 GB", licence="CC0 1.0"),
    "kather": dict(title="Kather 2016 colorectal texture tiles", env="HISTO_KATHER_DIR", prepared="kather2016",
                   sample="sample/kather2016", kaggle="kmader/colorectal-histology-mnist", kaggle_version=2,
                   zenodo_url="https://zenodo.org/records/53169/files/Kather_texture_2016_image_tiles_5000.zip"
                              "?download=1",
                   zenodo_md5="md5:0ddbebfc56344752028fda72602aaade", doi="10.5281/zenodo.53169",
                   size="about 250 MB", licence="CC BY 4.0"),
}
#: Patients whose whole slide is in the Kaggle data (complete patient folders): 8864 is a published test patient,
#: 9124 train, 8917 and 9023 validation, 8863 and 8950 in no list. The bundled sample keeps the first three.
COMPLETE_SLIDES = ("8864", "8950", "9124", "8863", "8917", "9023")
KATHER_CLASSES = ("TUMOR", "STROMA", "COMPLEX", "LYMPHO", "DEBRIS", "MUCOSA", "ADIPOSE", "EMPTY")
IDC_CLASSES, PATCH_SIZE, TILE_SIZE = ("non-IDC", "IDC"), 50, 150
DUPLICATE_TREE = "IDC_regular_ps50_idx5"  # the Kaggle archive holds every patient folder twice

IDC_LAYOUT = ("Expected layout (the Kaggle one): <folder>/8863/0/8863_idx5_x1001_y1001_class0.png, "
              "<folder>/8863/1/..., <folder>/8864/..., i.e. <patient>/<0|1>/<patient>_idx5_x<X>_y<Y>_class<C>.png")
KATHER_LAYOUT = ("Expected layout (the Zenodo zip): <folder>/01_TUMOR/*.tif, 02_STROMA/, 03_COMPLEX/, 04_LYMPHO/, "
                 "05_DEBRIS/, 06_MUCOSA/, 07_ADIPOSE/, 08_EMPTY/")
_IDC_NAME = re.compile(r"^(?P<patient>\d+)_idx5_x(?P<x>\d+)_y(?P<y>\d+)_class(?P<label>[01])\.png$")
_KATHER_NAME = re.compile(r"^(?:[0-9A-Fa-f]+_)?(?P<image>.+?\.tif)_Row_(?P<row>\d+)_Col_(?P<col>\d+)\.tif$")
_KATHER_FOLDER = re.compile(r"^(\d{1,2})_([A-Za-z]+)$")


class DataError(RuntimeError):
    """A data set is missing, unreadable or laid out unexpectedly; the message says what to do."""


class DataWarning(UserWarning):
    """A problem in data that still loads: few patients or one class, corrupt files skipped, a stray folder."""


def how_to_get(name: str) -> str:
    """The three ways to get a data set (one text, used by every message)."""
    s = SOURCES[name]
    return (f"Ways to get the {s['title']}: (1) set {s['env']} to an unzipped copy; (2) unzip the instructor's "
            f"handout (made with `python -m helpers prepare`) into the repository's data/ folder; (3) while online, "
            f"run `python -m helpers prepare --download` ({s['size']}).")


def cache_dir(*parts: str) -> Path:
    """Folder for caches: ``$HISTO_CACHE_DIR``, else the user cache folder (``~/.cache/histo-workshop``)."""
    base = os.environ.get("HISTO_CACHE_DIR") or Path(os.environ.get("XDG_CACHE_HOME") or "~/.cache", "histo-workshop")
    path = Path(base).expanduser().joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path | None:
    """The workshop's ``data/`` folder: ``$HISTO_DATA_DIR``, else the one next to ``helpers`` (editable install),
    else one holding ``sample/`` in the working directory or above it (plain ``pip install .``), else None."""
    env = os.environ.get("HISTO_DATA_DIR", "").strip()
    if env:
        return Path(env).expanduser()
    cwd = Path.cwd().resolve()
    for folder in (Path(__file__).resolve().parent.parent, cwd, *cwd.parents):
        if (folder / "data" / "sample").is_dir():
            return folder / "data"
    return None


class Location(NamedTuple):
    """Where a data set was found: ``root`` folder, ``kind`` (path, env, prepared, kagglehub, sample), text."""
    root: Path
    kind: str
    description: str


def _check_folder(path, what: str, name: str) -> Path:
    """``path`` as a folder that exists and is not empty, else a :class:`DataError` saying what to do."""
    p = Path(path).expanduser()
    if p.is_file() and p.suffix.lower() == ".zip":
        raise DataError(f"{what} is a .zip archive: unzip it first, then give the unzipped folder.")
    if p.is_file():
        raise DataError(f"{what} is a file, not a folder. Give the folder that holds the data.")
    if not p.is_dir():
        raise DataError(f"{what}: no such folder. Check the spelling. {how_to_get(name)}")
    if not any(p.iterdir()):
        raise DataError(f"{what} is an empty folder. Copy or unzip the data into it. {how_to_get(name)}")
    return p


def _manifest(folder: Path) -> dict | None:
    try:
        return json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):  # none, or not readable: not a prepared folder
        return None


def _prepared(name: str, base: Path) -> Location | None:
    """Prepared data under ``data/``: ``data/<prepared>``, else one level deeper, else any ``data/*/``."""
    folder = base / SOURCES[name]["prepared"]
    subfolders = lambda f: sorted(p for p in f.iterdir() if p.is_dir()) if f.is_dir() else []  # noqa: E731
    for c in [folder, *subfolders(folder), *(p for p in subfolders(base) if p.name not in ("sample", folder.name))]:
        m = _manifest(c)
        if m is not None and m.get("dataset") == name:
            note = "" if c == folder else f" (found at {c}, not {folder}: fine)"
            return Location(c, "prepared", f"prepared data in {c}{note}")
    if folder.is_dir() and any(folder.iterdir()):
        found = ", ".join(sorted(p.name for p in folder.iterdir())[:5])
        warnings.warn(f"{folder} holds no manifest.json of a prepared {name} set, here or one level down "
                      f"(found: {found}); ignoring it. Re-unzip the handout so that {folder}/manifest.json "
                      "exists.", DataWarning, stacklevel=4)
    return None


def _kagglehub_cached(name: str) -> Path | None:
    """The pinned version's folder if kagglehub's cache holds it complete (same layout as kagglehub; no network)."""
    s = SOURCES[name]
    cache = os.environ.get("KAGGLEHUB_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "kagglehub")
    base = Path(cache, "datasets", *s["kaggle"].split("/"))
    folder = base / "versions" / str(s["kaggle_version"])
    return folder if folder.is_dir() and (base / f"{s['kaggle_version']}.complete").exists() else None


def find_data(name: str, path=None) -> Location:
    """Where data set ``name`` ("idc" or "kather") is, without reading it or the network.

    Order: ``path`` -> environment variable -> prepared data under ``data/`` (also one folder deeper) -> kagglehub
    cache of the pinned version -> the sample bundled in ``data/sample``. Raises :class:`DataError` when ``path`` or
    the environment variable points nowhere (never silently replaced by other data), or when nothing is found."""
    s = SOURCES[name]
    if path is not None:
        root = _check_folder(path, f"The folder {path}", name)
        return Location(root, "path", f"folder {root}")
    env = os.environ.get(s["env"], "").strip()
    if env:
        root = _check_folder(env, f"{s['env']}={env}", name)
        return Location(root, "env", f"{s['env']}={root}")
    base = data_dir()
    found = _prepared(name, base) if base is not None else None
    cached = None if found else _kagglehub_cached(name)
    if found or cached:
        return found or Location(cached, "kagglehub", f"kagglehub cache of {s['kaggle']} version {s['kaggle_version']}")
    if base is not None and (base / s["sample"]).is_dir():
        m = _manifest(base / s["sample"]) or {}
        n, p = (f"{m[k]:,}" if isinstance(m.get(k), int) else "?" for k in ("n_patches", "n_patients"))
        what = f"{n} patches, {p} patients" if name == "idc" else f"{n} tiles, {len(KATHER_CLASSES)} classes"
        return Location(base / s["sample"], "sample",
                        f"bundled sample: {what} — for the full data run `python -m helpers prepare`")
    looked = f"{s['env']} (unset), data/ folder ({base or 'not found: see HISTO_DATA_DIR'}), kagglehub cache"
    raise DataError(
        f"No {s['title']} found. Looked at: {looked}. The bundled sample lives in the repository's data/sample: "
        "run from inside the repository, set HISTO_DATA_DIR=<repository>/data, or install with `pip install -e .`. "
        + how_to_get(name))


def parse_patch_name(name: str) -> dict | None:
    """``<patient>_idx5_x<X>_y<Y>_class<C>.png`` as a dict (None if the name does not match).

    >>> parse_patch_name("8863_idx5_x1001_y1051_class0.png")
    {'patient': '8863', 'x': 1001, 'y': 1051, 'label': 0}
    """
    m = _IDC_NAME.match(name)
    return m and {"patient": m["patient"], "x": int(m["x"]), "y": int(m["y"]), "label": int(m["label"])}


def _png_size(path: str) -> tuple[int, int]:
    """(width, height) from a PNG header, (0, 0) when the file is not a PNG."""
    with open(path, "rb") as f:
        head = f.read(24)
    ok = len(head) == 24 and head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24]) if ok else (0, 0)


def _no_data_message(root: Path, kind: str, layout: str) -> str:
    """What was found instead of the expected files, and what to do."""
    entries, zips = sorted(root.iterdir()), [p.name for p in root.rglob("*.zip")][:3]
    if zips:
        return f"No {kind} under {root}, but archive(s) {', '.join(zips)}: unzip it first.\n{layout}"
    shown = ", ".join(p.name + ("/" if p.is_dir() else "") for p in entries[:8])
    return f"No {kind} under {root} (found: {shown}{' ...' if len(entries) > 8 else ''}).\n{layout}"


def index_idc(root, *, on_mismatch: str = "raise", read_sizes: bool = True) -> pd.DataFrame:
    """Index a folder of IDC patches in the Kaggle layout (at any depth); nothing is decoded.

    Parameters
    ----------
    root : path-like
        Folder holding the patient folders (or above it). The archive's copy under ``IDC_regular_ps50_idx5/``
        is counted once.
    on_mismatch : {"raise", "skip"}
        A patch whose class folder disagrees with the ``class<C>`` in its name: error, or left out.
    read_sizes : bool
        Read width and height from each PNG header; False leaves those columns out.

    Returns
    -------
    table : DataFrame
        One row per patch, sorted by patient, y, x: ``path``, ``patient`` str; ``x``, ``y`` int (top-left corner
        in the slide); ``label`` int (1 = IDC); ``width``, ``height`` int (0: not a PNG). ``attrs``: root,
        n_duplicates, n_mismatch, n_ignored."""
    if on_mismatch not in ("raise", "skip"):
        raise ValueError(f"on_mismatch must be 'raise' or 'skip', not {on_mismatch!r}")
    root = _check_folder(root, f"The IDC folder {root}", "idc")
    rows, n_dup, mismatches, ignored = {}, 0, [], []  # rows: file name -> row
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort(key=lambda d: d == DUPLICATE_TREE)  # the duplicate tree last: its copies are the repeats
        for fname in sorted(f for f in filenames if f.endswith(".png")):
            info, path = parse_patch_name(fname), os.path.join(dirpath, fname)
            if info is None or os.path.basename(os.path.dirname(dirpath)) != info["patient"] \
                    or os.path.basename(dirpath) not in ("0", "1"):
                ignored.append(path)
            elif int(os.path.basename(dirpath)) != info["label"]:
                mismatches.append(path)
            elif fname in rows:
                n_dup += 1
            else:
                rows[fname] = {"path": path, **info}
    if mismatches and on_mismatch == "raise":
        raise DataError(f"{len(mismatches)} patch(es) sit in a class folder that disagrees with the class in their "
                        "name, e.g.\n  " + "\n  ".join(mismatches[:5]) + "\nMove them to the right folder or "
                        "re-download the data; or pass on_mismatch='skip' (command line: --on-mismatch skip).")
    if not rows and ignored:
        raise DataError(f"Found {len(ignored)} .png file(s) under {root} but none in the IDC layout, e.g.\n  "
                        + "\n  ".join(ignored[:3]) + f"\n{IDC_LAYOUT}")
    if not rows:
        raise DataError(_no_data_message(root, "IDC patches (.png)", IDC_LAYOUT))
    table = pd.DataFrame(list(rows.values())).astype({"x": np.int64, "y": np.int64, "label": np.int64})
    if read_sizes:
        sizes = np.array([_png_size(p) for p in table["path"]], dtype=np.int64).reshape(-1, 2)
        table["width"], table["height"] = sizes[:, 0], sizes[:, 1]
    table = table.iloc[np.lexsort((table["x"], table["y"], table["patient"].astype(np.int64)))].reset_index(drop=True)
    table.attrs.update(root=str(root), n_duplicates=n_dup, n_mismatch=len(mismatches), n_ignored=len(ignored))
    return table


def _tile_root(path: Path, depth: int = 4) -> Path | None:
    """The folder at or below ``path`` (breadth-first) that holds Kather class folders, or None."""
    level = [path]
    for _ in range(depth + 1):
        for d in level:
            if any(c.is_dir() and _KATHER_FOLDER.match(c.name) for c in d.iterdir()):
                return d
        level = [c for d in level for c in sorted(d.iterdir()) if c.is_dir() and not c.name.startswith(".")]
    return None


def index_kather(root) -> pd.DataFrame:
    """Index the Kather tiles at or below ``root`` (up to 4 levels down); nothing is decoded.

    Returns
    -------
    table : DataFrame
        One row per tile, sorted by label then path: ``path`` str, ``label`` int (0-7), ``class_name`` str,
        ``image`` str (the source image the tile was cut from, e.g. ``CRC-Prim-HE-06_005.tif``), ``row``, ``col``
        int (the tile's position in that image; -1 when the name does not say)."""
    root = _check_folder(root, f"The Kather folder {root}", "kather")
    tiles = _tile_root(root)
    if tiles is None:
        raise DataError(_no_data_message(root, "Kather class folders", KATHER_LAYOUT))
    rows = []
    for d in sorted(tiles.iterdir()):
        m = _KATHER_FOLDER.match(d.name) if d.is_dir() else None
        if m is None:
            continue
        if m[2].upper() not in KATHER_CLASSES:
            raise DataError(f"Unknown class folder {d.name!r} in {tiles}. {KATHER_LAYOUT}")
        label = KATHER_CLASSES.index(m[2].upper())
        for f in sorted(d.iterdir()):
            if f.suffix.lower() in (".tif", ".tiff") and not f.name.startswith("."):
                n = _KATHER_NAME.match(f.name)
                rows.append({"path": str(f), "label": label, "class_name": KATHER_CLASSES[label],
                             "image": n["image"] if n else f.stem, "row": int(n["row"]) if n else -1,
                             "col": int(n["col"]) if n else -1})
    missing = [c for i, c in enumerate(KATHER_CLASSES) if not any(r["label"] == i for r in rows)]
    if missing:
        raise DataError(f"No tiles for class(es) {', '.join(missing)} in {tiles}. {KATHER_LAYOUT}")
    table = pd.DataFrame(rows).sort_values(["label", "path"], kind="stable").reset_index(drop=True)
    table.attrs.update(root=str(tiles))
    return table


def sample_patches(table: pd.DataFrame, *, max_patches: int | None = None, max_per_patient: int | None = None,
                   random_state: int = 0, group: str = "patient", whole=()) -> pd.DataFrame:
    """Patient-stratified subsample: many patients, each with its own class mix.

    Each patient (``group`` column) keeps ``min(n, max_per_patient)`` patches; then, if more than ``max_patches``
    remain, each keeps ``min(n, c)`` with ``c`` the largest common cap that fits (the last few places go to
    patients drawn at random). Inside a patient the classes keep their proportions. Patients in ``whole`` (e.g.
    :data:`COMPLETE_SLIDES`) keep every patch; the others share what is left of ``max_patches``.

    Returns
    -------
    DataFrame
        The chosen rows of ``table``, in table order (index reset, ``attrs`` kept)."""
    kept = table[group].isin([str(p) for p in whole]).to_numpy()
    if kept.any():  # the other patients share what is left; rows stay in table order
        rest = sample_patches(table[~kept].assign(_row=np.flatnonzero(~kept)), max_per_patient=max_per_patient,
                              max_patches=None if max_patches is None else max(max_patches - kept.sum(), 0),
                              random_state=random_state, group=group)
        out = table.iloc[np.sort(np.concatenate([np.flatnonzero(kept), rest["_row"]]))].reset_index(drop=True)
        out.attrs = dict(table.attrs)
        return out
    rng = np.random.default_rng(random_state)
    key = rng.random(len(table))
    quota = table.groupby(group, sort=True).size().clip(upper=max_per_patient)
    if max_patches is not None and quota.sum() > max_patches:
        lo, hi = 0, int(quota.max())
        while lo < hi:  # the largest cap c with sum(min(quota, c)) <= max_patches
            mid = (lo + hi + 1) // 2
            lo, hi = (mid, hi) if quota.clip(upper=mid).sum() <= max_patches else (lo, mid - 1)
        room = np.flatnonzero(quota.to_numpy() > lo)
        quota = quota.clip(upper=lo)
        quota.iloc[rng.choice(room, size=int(max_patches - quota.sum()), replace=False)] += 1
    keep = np.zeros(len(table), dtype=bool)
    for g, idx in table.groupby(group, sort=True).indices.items():
        labels = table["label"].to_numpy()[idx]
        classes, counts = np.unique(labels, return_counts=True)
        exact = counts * quota[g] / len(idx)  # the patient's class mix, rounded by largest remainder
        alloc = np.floor(exact).astype(int)
        alloc[np.argsort(-(exact - alloc), kind="stable")[: int(quota[g] - alloc.sum())]] += 1
        for c, k in zip(classes, alloc):
            members = idx[labels == c]
            keep[members[np.argsort(key[members], kind="stable")[:k]]] = True
    out = table[keep].reset_index(drop=True)
    out.attrs = dict(table.attrs)
    return out


def _decode_files(files: tuple, size: int, on_small: str, progress: bool = True):
    """Decode image files into ``(n, size, size, 3)`` uint8, white-padded; cached by :func:`_decode`.

    Returns images, status (0 read, 1 padded, 2 dropped as too small, 3 unreadable) and the errors."""
    from PIL import Image
    from tqdm.auto import tqdm

    n = len(files)
    images = np.full((n, size, size, 3), 255, dtype=np.uint8)
    status, errors = np.zeros(n, dtype=np.int8), []

    def work(start: int) -> int:
        for i in range(start, min(start + 256, n)):
            try:
                with Image.open(files[i][0]) as im:
                    arr = np.asarray(im.convert("RGB"))
            except Exception as exc:  # noqa: BLE001 - any decoder error means a corrupt file
                status[i] = 3
                errors.append(f"{files[i][0]} ({type(exc).__name__})")
                continue
            if arr.shape[:2] != (size, size):
                status[i] = 1 if on_small == "pad" else 2
            h, w = min(arr.shape[0], size), min(arr.shape[1], size)
            images[i, :h, :w] = arr[:h, :w]  # tissue at the top-left, as in the slide
        return min(start + 256, n) - start

    with ThreadPoolExecutor(max_workers=2) as pool, \
            tqdm(total=n, desc="Decoding images", unit="img", delay=1.0, disable=not progress) as bar:
        for done in pool.map(work, range(0, n, 256)):
            bar.update(done)
    return images, status, sorted(errors)


def _decode(paths, size: int, on_small: str, progress: bool, stacklevel: int = 3, cache: bool = True):
    """:func:`_decode_files` through joblib.Memory, keyed by the files' paths, sizes and modification times."""
    from joblib import Memory

    if on_small not in ("pad", "drop"):
        raise ValueError(f"on_small must be 'pad' or 'drop', not {on_small!r}")
    files = tuple((str(p), (s := os.stat(p)).st_size, s.st_mtime_ns) if cache else (str(p), 0, 0) for p in paths)
    decode = Memory(cache_dir("joblib"), verbose=0).cache(_decode_files, ignore=["progress"]) if cache \
        else _decode_files
    images, status, errors = decode(files, size, on_small, progress)
    if errors:
        warnings.warn(f"{len(errors)} of {len(files)} image file(s) could not be decoded and were skipped:\n  "
                      + "\n  ".join(errors[:5]) + "\nDelete or re-download those files; the others are loaded "
                      "normally.", DataWarning, stacklevel=stacklevel)
    return images, status


def read_patches(paths, *, on_small: str = "pad", progress: bool = True,
                 cache: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Decode IDC patch files (kept in the joblib.Memory cache unless ``cache=False``).

    Returns
    -------
    images : ndarray of uint8, shape (k, 50, 50, 3)
        The readable patches in the order of ``paths``; edge patches padded with white (``on_small="pad"``) or
        left out (``"drop"``).
    ok : ndarray of bool, shape (n,)
        Which of ``paths`` are in ``images``. Corrupt files are skipped with one warning."""
    images, status = _decode(list(paths), PATCH_SIZE, on_small, progress, cache=cache)
    return images[status <= 1], status <= 1


@dataclass(repr=False)
class PatchData:
    """Images with their labels, groups and table -- the same for IDC and Kather.

    Attributes
    ----------
    images : ndarray of uint8, shape (n, h, w, 3)
    labels : ndarray of int64, shape (n,), index into ``class_names`` (tuple of str)
    groups : ndarray of str, shape (n,), scikit-learn's ``groups``: patient (IDC), source image (Kather)
    table : DataFrame aligned with ``images`` (IDC: path, patient, x, y, label, width, height, padded;
        Kather: path, label, class_name, image, row, col).
    source : str, one line saying where the data came from (starts with "bundled sample" when it is).
    report : dict, counts n_indexed, n_loaded, n_padded, n_dropped_small, n_corrupt, n_duplicates, n_mismatch.
    """
    images: np.ndarray
    labels: np.ndarray
    groups: np.ndarray
    class_names: tuple
    table: pd.DataFrame
    source: str
    report: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.labels)

    def __repr__(self) -> str:
        return (f"PatchData({len(self)} images of {self.images.shape[1]}x{self.images.shape[2]}, "
                f"{len(np.unique(self.groups))} groups, classes {self.class_names}, source={self.source!r})")

    def subset(self, index) -> PatchData:
        """The selected rows (integer index or boolean mask) as a new :class:`PatchData`."""
        idx = np.arange(len(self))[index]
        return replace(self, images=self.images[idx], labels=self.labels[idx], groups=self.groups[idx],
                       table=self.table.iloc[idx].reset_index(drop=True))

    def summary(self) -> str:
        """A short paragraph describing the data, its first line :attr:`source` (returned, not printed)."""
        counts = np.bincount(self.labels, minlength=len(self.class_names))
        idc = self.class_names == IDC_CLASSES
        what, kind = ("patches", "patients") if idc else ("tiles", "source images")
        mix = ", ".join(f"{c:,} {n}" for n, c in zip(self.class_names, counts))
        r = {k: self.report.get(k, 0) for k in ("n_padded", "n_dropped_small", "n_corrupt", "n_duplicates",
                                                 "n_mismatch")}
        lines = [self.source, f"{len(self):,} {what} from {len(np.unique(self.groups))} {kind}: {mix}.",
                 f"images {self.images.shape} {self.images.dtype}, {self.images.nbytes / 2**20:.1f} MiB."]
        if idc or any(r.values()):
            lines.append(f"Edge patches smaller than the rest: {r['n_padded']} padded with white, "
                         f"{r['n_dropped_small']} dropped; corrupt files skipped: {r['n_corrupt']}; duplicate copies "
                         f"ignored: {r['n_duplicates']}; label mismatches left out: {r['n_mismatch']}.")
        return "\n".join(lines)


def _finish(table: pd.DataFrame, full: pd.DataFrame, loc: Location, size: int, on_small: str, progress: bool,
            group: str, class_names: tuple) -> PatchData:
    """Decode ``table``'s files, drop what could not be used, build the container."""
    images, status = _decode(table["path"].tolist(), size, on_small, progress, stacklevel=4)
    ok = status <= 1
    table = (table.assign(padded=status == 1) if group == "patient" else table)[ok].reset_index(drop=True)
    report = {"n_indexed": len(full), "n_loaded": int(ok.sum()), "n_padded": int((status == 1).sum()),
              "n_dropped_small": int((status == 2).sum()), "n_corrupt": int((status == 3).sum()),
              "n_duplicates": full.attrs.get("n_duplicates", 0), "n_mismatch": full.attrs.get("n_mismatch", 0)}
    return PatchData(images=images[ok], labels=table["label"].to_numpy(np.int64),
                     groups=table[group].to_numpy(str), class_names=class_names, table=table,
                     source=loc.description, report=report)


def load_idc(path=None, *, max_patches: int | None = None, max_per_patient: int | None = None, patients=None,
             whole=(), random_state: int = 0, on_small: str = "pad", on_mismatch: str = "raise",
             progress: bool = True) -> PatchData:
    """Find, index, subsample and decode IDC patches (decoded arrays cached on disk; never downloads).

    Parameters
    ----------
    path : path-like, optional
        IDC folder; default: see :func:`find_data`.
    max_patches, max_per_patient, random_state : int, optional
        Patient-stratified subsample, see :func:`sample_patches`.
    whole : sequence of str, optional
        Patients kept whole by the subsample (e.g. :data:`COMPLETE_SLIDES`, to rebuild their slides).
    patients : sequence of str, optional
        Keep only these patient ids (before subsampling).
    on_small : {"pad", "drop"}
        Slide-edge patches smaller than 50 x 50: padded with white (``table.padded``) or left out.
    on_mismatch : {"raise", "skip"}
        Class folder and file name disagree: error, or left out (see :func:`index_idc`).
    progress : bool
        Progress bar while decoding (after one second).

    Returns
    -------
    PatchData
        ``images`` uint8 (n, 50, 50, 3), ``labels`` int64 (n,) 0/1, ``groups`` str (n,) patient ids, ``table``."""
    loc = find_data("idc", path)
    full = index_idc(loc.root, on_mismatch=on_mismatch)
    n_patients, n_classes = full["patient"].nunique(), full["label"].nunique()
    if n_patients < 5 or n_classes < 2:
        warnings.warn(f"{loc.root} holds {n_patients} patient(s) and {n_classes} class(es): patient-grouped "
                      "splits need both classes and many patients (at least 5; the workshop expects dozens). "
                      "Did you give one patient's folder? Give the folder that holds all patient folders.",
                      DataWarning, stacklevel=2)
    table = full if patients is None else full[full["patient"].isin([str(p) for p in patients])]
    if table.empty:
        raise DataError(f"None of the patients {[str(p) for p in patients][:5]} are in {loc.root} "
                        f"({n_patients} patients there, e.g. {', '.join(full['patient'].unique()[:5])}).")
    table = sample_patches(table, max_patches=max_patches, max_per_patient=max_per_patient,
                           random_state=random_state, whole=whole)
    return _finish(table, full, loc, PATCH_SIZE, on_small, progress, "patient", IDC_CLASSES)


def load_kather(path=None, *, max_per_class: int | None = None, random_state: int = 0,
                progress: bool = True) -> PatchData:
    """Find and decode the Kather 2016 tiles (decoded arrays cached on disk; never downloads).

    Parameters
    ----------
    path : path-like, optional
        Folder holding the class folders (or a folder above them); default: see :func:`find_data`.
    max_per_class : int, optional
        At most this many tiles per class, drawn with ``random_state``.

    Returns
    -------
    PatchData
        ``images`` uint8 (n, 150, 150, 3), ``labels`` int64 (n,) 0-7 (``class_names`` = :data:`KATHER_CLASSES`),
        ``groups`` str (n,) source image of each tile, ``table``."""
    loc = find_data("kather", path)
    full = index_kather(loc.root)
    table = full if max_per_class is None else sample_patches(  # each class plays the part of a patient
        full, max_per_patient=max_per_class, random_state=random_state, group="label")
    return _finish(table, full, loc, TILE_SIZE, "pad", progress, "image", KATHER_CLASSES)

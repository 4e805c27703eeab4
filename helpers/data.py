"""Access to the IDC breast histopathology patches (Janowczyk & Madabhushi 2016; Kaggle copy).

The data set: 277,524 RGB PNG patches of 50 x 50 px cut from 162 whole-mount slides of breast cancer, laid out as
``<patient>/<0|1>/<patient>_idx5_x<X>_y<Y>_class<C>.png`` (class 1 = invasive ductal carcinoma, IDC).

Where the data comes from, in this order (see :func:`find_idc`):

1. an explicit ``path``;
2. the environment variable ``HISTO_IDC_DIR``;
3. a workshop subset prepared with ``python -m helpers prepare`` under the repository's ``data/idc_subset``;
4. the Kaggle download through :mod:`kagglehub` (dataset version pinned, so a cached copy works offline);
5. the synthetic demo data of :mod:`helpers.demo`, with a visible banner (never silently).

``HISTO_DEMO=1`` forces the demo data.
"""

from __future__ import annotations

import json
import os
import re
import struct
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ._common import DataError, cache_dir, demo_forced, kagglehub_cached, repo_data_dir, stable_hash, warn_demo

__all__ = [
    "PATCH_SIZE",
    "KAGGLE_IDC_HANDLE",
    "KAGGLE_IDC_VERSION",
    "DUPLICATE_TREE",
    "IDCSource",
    "IDCData",
    "DataError",
    "parse_patch_name",
    "index_idc",
    "read_patch",
    "read_patches",
    "subsample",
    "find_idc",
    "load_idc",
    "download_idc",
    "HOW_TO_GET_IDC",
]

PATCH_SIZE = 50
KAGGLE_IDC_HANDLE = "paultimothymooney/breast-histopathology-images"
#: Pinned Kaggle dataset version: an unpinned handle asks the Kaggle API for the latest version first and so fails
#: offline even when the data set is in the kagglehub cache.
KAGGLE_IDC_VERSION = 1
#: The Kaggle archive holds every patient folder twice: at the top and under this folder.
DUPLICATE_TREE = "IDC_regular_ps50_idx5"
PREPARED_SUBSET = "idc_subset"

HOW_TO_GET_IDC = (
    "(1) point HISTO_IDC_DIR (or path=...) at an unpacked copy of the Kaggle data set "
    "'Breast Histopathology Images'; (2) ask your instructor for the prepared workshop subset and unpack it "
    "into the repository's data/idc_subset (made with `python -m helpers prepare`); "
    "(3) download it once, while online, with `python -m helpers prepare --download` "
    f"(kagglehub, {KAGGLE_IDC_HANDLE} version {KAGGLE_IDC_VERSION}, about 3 GB)."
)

EXPECTED_LAYOUT = (
    "Expected layout (the Kaggle one):\n"
    "  <root>/\n"
    "    8863/\n"
    "      0/8863_idx5_x1001_y1001_class0.png\n"
    "      1/8863_idx5_x1451_y901_class1.png\n"
    "    8864/\n"
    "      ...\n"
    "  i.e. <patient>/<0|1>/<patient>_idx5_x<X>_y<Y>_class<C>.png"
)

_NAME_RE = re.compile(r"^(?P<patient>\d+)_idx5_x(?P<x>\d+)_y(?P<y>\d+)_class(?P<label>[01])\.png$")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TABLE_COLUMNS = ["path", "patient", "x", "y", "label", "width", "height"]


def parse_patch_name(name: str) -> dict | None:
    """Parse ``<patient>_idx5_x<X>_y<Y>_class<C>.png`` into a dict (or ``None`` if the name does not match).

    >>> parse_patch_name("8863_idx5_x1001_y1051_class0.png")
    {'patient': '8863', 'x': 1001, 'y': 1051, 'label': 0}
    """
    m = _NAME_RE.match(name)
    if m is None:
        return None
    return {"patient": m["patient"], "x": int(m["x"]), "y": int(m["y"]), "label": int(m["label"])}


def _png_size(path: str) -> tuple[int, int]:
    """Width and height from a PNG header; ``(0, 0)`` if the file is not a readable PNG."""
    try:
        with open(path, "rb") as f:
            head = f.read(24)
    except OSError:
        return 0, 0
    if len(head) < 24 or head[:8] != _PNG_SIGNATURE or head[12:16] != b"IHDR":
        return 0, 0
    width, height = struct.unpack(">II", head[16:24])
    return int(width), int(height)


def _walk_pngs(root: Path) -> list[tuple[str, str]]:
    """All ``.png`` files below root as (directory, file name), sorted, following no symlinked loops."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames.sort()
        found.extend((dirpath, f) for f in filenames if f.endswith(".png"))
    return found


def index_idc(root, *, on_mismatch: str = "raise", read_sizes: bool = True) -> pd.DataFrame:
    """Index a folder of IDC patches in the Kaggle layout.

    Parameters
    ----------
    root : path-like
        Folder that holds the patient folders (at any depth: the Kaggle download's extra
        ``IDC_regular_ps50_idx5/`` copy is found and each patch counted once).
    on_mismatch : {"raise", "skip"}
        What to do when the class folder (``0``/``1``) and the ``class<C>`` in the file name disagree, or the
        patient folder and the patient in the name disagree.
    read_sizes : bool
        Read width and height from each PNG header (fast; 0 x 0 marks a file that is not a readable PNG).

    Returns
    -------
    table : pandas.DataFrame
        One row per patch, sorted by patient, y, x, with columns ``path`` (str), ``patient`` (str), ``x``, ``y``
        (int, pixel coordinates of the patch's top-left corner in the slide), ``label`` (int, 1 = IDC), ``width``,
        ``height`` (int). ``table.attrs["n_duplicates"]`` counts patches seen twice (duplicate trees),
        ``table.attrs["n_mismatch"]`` skipped label mismatches, ``table.attrs["root"]`` the root.

    Raises
    ------
    DataError
        The folder does not exist, is empty, holds no file in the expected layout, or (``on_mismatch="raise"``)
        a folder label disagrees with a name label.
    """
    root = Path(root).expanduser()
    if not root.exists():
        raise DataError(f"The IDC folder {root} does not exist. Check the path. {HOW_TO_GET_IDC}")
    if not root.is_dir():
        raise DataError(f"{root} is a file, not a folder. Give the folder that holds the patient folders.")
    files = _walk_pngs(root)
    if not files:
        if not any(root.iterdir()):
            raise DataError(f"The IDC folder {root} is empty. {HOW_TO_GET_IDC}")
        raise DataError(f"No .png patches found under {root}.\n{EXPECTED_LAYOUT}")

    rows: dict[str, dict] = {}
    n_dup = 0
    mismatches: list[str] = []
    bad_names: list[str] = []
    for dirpath, name in files:
        info = parse_patch_name(name)
        if info is None:
            bad_names.append(os.path.join(dirpath, name))
            continue
        class_dir = os.path.basename(dirpath)
        patient_dir = os.path.basename(os.path.dirname(dirpath))
        path = os.path.join(dirpath, name)
        if class_dir not in ("0", "1") or patient_dir != info["patient"]:
            bad_names.append(path)
            continue
        if int(class_dir) != info["label"]:
            mismatches.append(path)
            continue
        previous = rows.get(name)
        if previous is not None:
            n_dup += 1
            # Prefer the copy outside the duplicate tree.
            if DUPLICATE_TREE in Path(previous["path"]).parts and DUPLICATE_TREE not in Path(path).parts:
                previous["path"] = path
            continue
        info["path"] = path
        rows[name] = info

    if mismatches and on_mismatch == "raise":
        shown = "\n  ".join(mismatches[:5])
        raise DataError(
            f"{len(mismatches)} patch(es) sit in a class folder that disagrees with the class in their name, e.g.\n  "
            f"{shown}\nThe folder 0/1 and the name's class<C> must agree. Move the files to the right folder or "
            "re-download the data set; or pass on_mismatch='skip' to leave them out."
        )
    if not rows:
        shown = "\n  ".join(bad_names[:3])
        raise DataError(
            f"Found {len(bad_names)} .png file(s) under {root} but none in the IDC layout, e.g.\n  {shown}\n"
            f"{EXPECTED_LAYOUT}"
        )

    table = pd.DataFrame(list(rows.values()))
    if read_sizes:
        sizes = [_png_size(p) for p in table["path"]]
        table["width"] = np.array([s[0] for s in sizes], dtype=np.int32)
        table["height"] = np.array([s[1] for s in sizes], dtype=np.int32)
    else:
        table["width"] = PATCH_SIZE
        table["height"] = PATCH_SIZE
    table["x"] = table["x"].astype(np.int32)
    table["y"] = table["y"].astype(np.int32)
    table["label"] = table["label"].astype(np.int8)
    table["_pid"] = table["patient"].astype(np.int64)
    table = table.sort_values(["_pid", "y", "x"], kind="stable").drop(columns="_pid").reset_index(drop=True)
    table = table[TABLE_COLUMNS]
    table.attrs.update(
        root=str(root), n_duplicates=n_dup, n_mismatch=len(mismatches), n_ignored=len(bad_names)
    )
    return table


def _pad(arr: np.ndarray) -> np.ndarray:
    out = np.full((PATCH_SIZE, PATCH_SIZE, 3), 255, dtype=np.uint8)
    h, w = min(arr.shape[0], PATCH_SIZE), min(arr.shape[1], PATCH_SIZE)
    out[:h, :w] = arr[:h, :w]
    return out


def read_patch(path, on_small: str = "pad") -> np.ndarray | None:
    """Read one patch as ``uint8`` ``(50, 50, 3)`` RGB.

    Slide-edge patches smaller than 50 x 50 are padded with white (``on_small="pad"``: the tissue stays at the
    top-left, as in the slide) or give ``None`` (``on_small="drop"``). Raises :class:`OSError` (or a Pillow error)
    for a file that cannot be decoded.
    """
    from PIL import Image

    with Image.open(path) as im:
        arr = np.asarray(im if im.mode == "RGB" else im.convert("RGB"))
    if arr.shape[:2] == (PATCH_SIZE, PATCH_SIZE):
        return arr
    if on_small == "drop":
        return None
    if on_small != "pad":
        raise ValueError(f"on_small must be 'pad' or 'drop', not {on_small!r}")
    return _pad(arr)


def _read_into(paths, out, ok, start, on_small):
    errors = []
    for i, p in enumerate(paths):
        try:
            arr = read_patch(p, on_small=on_small)
        except Exception as exc:  # corrupt or unreadable file: skipped and reported
            errors.append((p, f"{type(exc).__name__}: {exc}"))
            continue
        if arr is not None:
            out[start + i] = arr
            ok[start + i] = True
    return errors


def read_patches(paths, on_small: str = "pad", progress: bool = True, n_jobs: int = 2, chunk_size: int = 512):
    """Decode many patches into one array.

    Parameters
    ----------
    paths : sequence of path-like
    on_small : {"pad", "drop"}
        Policy for slide-edge patches smaller than 50 x 50: pad with white, or leave them out.
    progress : bool
        Show a progress bar (tqdm).
    n_jobs : int
        Decoding threads (Pillow releases the GIL while decoding).

    Returns
    -------
    images : ndarray of uint8, shape (k, 50, 50, 3)
        The readable (and, with ``on_small="drop"``, full-size) patches, in the order of ``paths``.
    ok : ndarray of bool, shape (n,)
        Which of ``paths`` are in ``images``.

    Corrupt files are skipped, counted and reported in one warning; nothing is lost silently.
    """
    from tqdm.auto import tqdm

    paths = [str(p) for p in paths]
    n = len(paths)
    out = np.empty((n, PATCH_SIZE, PATCH_SIZE, 3), dtype=np.uint8)
    ok = np.zeros(n, dtype=bool)
    chunks = [(s, paths[s : s + chunk_size]) for s in range(0, n, chunk_size)]
    errors = []
    with tqdm(total=n, desc="Reading patches", unit="patch", disable=not progress or n == 0) as bar:
        with ThreadPoolExecutor(max_workers=max(1, n_jobs)) as pool:
            futures = [pool.submit(_read_into, chunk, out, ok, s, on_small) for s, chunk in chunks]
            for fut, (_, chunk) in zip(futures, chunks):
                errors.extend(fut.result())
                bar.update(len(chunk))
    if errors:
        shown = "\n  ".join(f"{p} ({e})" for p, e in errors[:5])
        warnings.warn(
            f"{len(errors)} of {n} patch file(s) could not be decoded and were skipped:\n  {shown}\n"
            "Re-download or delete those files; the other patches are loaded normally.",
            stacklevel=2,
        )
    if ok.all():
        return out, ok
    return out[ok], ok


def subsample(
    table: pd.DataFrame,
    *,
    max_patches: int | None = None,
    max_per_patient: int | None = None,
    balance: bool = False,
    seed: int = 0,
) -> pd.DataFrame:
    """Patient-stratified workshop subsample of a patch table.

    Every patient keeps patches (no patient is dropped unless ``max_patches`` is smaller than the number of
    patients), each patient's class mix is kept, and the result is reproducible for a given ``seed``.

    Parameters
    ----------
    max_per_patient : int, optional
        At most this many patches per patient (class proportions within the patient kept).
    balance : bool
        Down-sample the majority class so both classes have as many patches (spread over patients).
    max_patches : int, optional
        At most this many patches in total, the same fraction taken from every patient and class.
    seed : int
        Seed of the random choice.

    Returns
    -------
    DataFrame
        A subset of ``table``'s rows, in ``table``'s order (index reset).
    """
    rng = np.random.default_rng(seed)
    keep = np.ones(len(table), dtype=bool)
    # A random rank for each row; within a (patient, label) group the lowest ranks are kept.
    rank_key = rng.random(len(table))
    groups = table.groupby(["patient", "label"], sort=False).indices

    def _keep_fraction(frac_by_group):
        nonlocal keep
        new = np.zeros(len(table), dtype=bool)
        for key, idx in groups.items():
            idx = idx[keep[idx]]
            if len(idx) == 0:
                continue
            k = frac_by_group(key, len(idx))
            if k <= 0:
                continue
            order = idx[np.argsort(rank_key[idx], kind="stable")]
            new[order[:k]] = True
        keep = new

    if max_per_patient is not None:
        n_patient = table.groupby("patient")["label"].size()

        def per_patient(key, n):
            total = n_patient[key[0]]
            if total <= max_per_patient:
                return n
            return max(1, int(round(n * max_per_patient / total)))

        _keep_fraction(per_patient)
    if balance:
        counts = table.loc[keep, "label"].value_counts()
        if len(counts) == 2:
            target = counts.min()
            fracs = {lab: target / c for lab, c in counts.items()}
            _keep_fraction(lambda key, n: int(np.ceil(n * fracs[key[1]] - 1e-9)))
    if max_patches is not None and keep.sum() > max_patches:
        # Largest-remainder allocation: every (patient, class) group gets its share, the total is exact.
        keys = list(groups)
        sizes = np.array([keep[groups[k]].sum() for k in keys], dtype=float)
        quota = sizes * max_patches / sizes.sum()
        alloc = np.floor(quota).astype(int)
        short = max_patches - alloc.sum()
        order = np.lexsort((rng.random(len(keys)), -(quota - alloc)))
        alloc[order[:short]] += 1
        quotas = dict(zip(keys, alloc))
        _keep_fraction(lambda key, n: int(quotas[key]))
    idx = np.flatnonzero(keep)
    out = table.iloc[idx].reset_index(drop=True)
    out.attrs = dict(table.attrs)
    return out


@dataclass
class IDCSource:
    """Where IDC data was found: ``root`` folder, ``kind`` (path, env, prepared, kagglehub, demo)."""

    root: Path
    kind: str
    is_demo: bool = False
    note: str = ""

    def __str__(self) -> str:
        label = "DEMO (synthetic)" if self.is_demo else "real"
        return f"{label} IDC data from {self.kind}: {self.root}" + (f" — {self.note}" if self.note else "")


@dataclass
class IDCData:
    """Decoded patches and their table.

    Attributes
    ----------
    images : ndarray of uint8, shape (n, 50, 50, 3)
    table : DataFrame aligned with ``images`` (columns path, patient, x, y, label, width, height, padded)
    source : IDCSource
    report : dict of counts (patches indexed, selected, padded edge patches, dropped, corrupt, duplicates)
    """

    images: np.ndarray
    table: pd.DataFrame
    source: IDCSource
    report: dict = field(default_factory=dict)

    @property
    def is_demo(self) -> bool:
        return self.source.is_demo

    @property
    def labels(self) -> np.ndarray:
        return self.table["label"].to_numpy()

    @property
    def patients(self) -> np.ndarray:
        return self.table["patient"].to_numpy()

    def __len__(self) -> int:
        return len(self.table)

    def summary(self) -> str:
        """One paragraph describing the loaded data (returned, not printed)."""
        t = self.table
        pos = int(t["label"].sum())
        r = self.report
        lines = [
            str(self.source),
            f"{len(t):,} patches from {t['patient'].nunique()} patients: {len(t) - pos:,} non-IDC (0), "
            f"{pos:,} IDC (1) = {pos / max(len(t), 1):.1%} positive.",
            f"Array {self.images.shape} {self.images.dtype}, {self.images.nbytes / 2**20:.1f} MiB.",
        ]
        if r:
            lines.append(
                f"Edge patches smaller than 50x50: {r.get('n_small', 0)} ({r.get('on_small', 'pad')}: "
                f"{r.get('n_padded', 0)} padded with white, {r.get('n_dropped_small', 0)} dropped); "
                f"corrupt files skipped: {r.get('n_corrupt', 0)}; duplicate copies ignored: "
                f"{r.get('n_duplicates', 0)}."
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"IDCData({len(self)} patches, source={self.source.kind!r}, demo={self.is_demo})"


def _kagglehub_cached() -> Path | None:
    """Path of the pinned Kaggle data set if kagglehub's cache already holds it (no network)."""
    return kagglehub_cached(f"{KAGGLE_IDC_HANDLE}/versions/{KAGGLE_IDC_VERSION}")


def download_idc() -> Path:
    """Download (or find in the kagglehub cache) the pinned Kaggle IDC data set; return its folder.

    kagglehub shows its own progress bar. Raises :class:`DataError` with the three ways to get data when the
    download fails (no network, no Kaggle credentials).
    """
    try:
        import kagglehub

        path = kagglehub.dataset_download(f"{KAGGLE_IDC_HANDLE}/versions/{KAGGLE_IDC_VERSION}")
    except Exception as exc:
        raise DataError(
            f"Could not download the IDC data set from Kaggle ({type(exc).__name__}: {exc}). "
            f"No network, or no Kaggle access. Ways to get the data: {HOW_TO_GET_IDC}"
        ) from exc
    return Path(path)


def _prepared_subset() -> Path | None:
    path = repo_data_dir() / PREPARED_SUBSET
    if (path / "manifest.json").exists():
        return path
    return None


def find_idc(path=None, *, allow_download: bool = True, allow_demo: bool = True) -> IDCSource:
    """Find IDC data (see the module docstring for the order) without reading it.

    Raises :class:`DataError` when an explicitly given folder (``path`` or ``HISTO_IDC_DIR``) does not exist, or
    when nothing is found and ``allow_demo`` is False.
    """
    if path is not None:
        p = Path(path).expanduser()
        if not p.is_dir():
            raise DataError(f"The IDC folder {p} given as path= does not exist. {HOW_TO_GET_IDC}")
        return IDCSource(p, "path")
    if demo_forced():
        return _demo_source("HISTO_DEMO is set")
    env = os.environ.get("HISTO_IDC_DIR")
    if env:
        p = Path(env).expanduser()
        if not p.is_dir():
            raise DataError(
                f"HISTO_IDC_DIR={env} is not a folder. Fix the variable or unset it. {HOW_TO_GET_IDC}"
            )
        return IDCSource(p, "env HISTO_IDC_DIR")
    prepared = _prepared_subset()
    if prepared is not None:
        return IDCSource(prepared, "prepared subset")
    cached = _kagglehub_cached()
    if cached is not None:
        return IDCSource(cached, "kagglehub cache")
    reason = "no IDC data found (no path, no HISTO_IDC_DIR, no prepared subset, not in the kagglehub cache)"
    if allow_download:
        try:
            return IDCSource(download_idc(), "kagglehub download")
        except DataError as exc:
            if not allow_demo:
                raise
            reason = f"{reason}, and the Kaggle download failed ({exc.__cause__ or exc})"
    if not allow_demo:
        raise DataError(f"No IDC data found. {HOW_TO_GET_IDC}")
    return _demo_source(reason)


def _demo_source(reason: str) -> IDCSource:
    from .demo import demo_idc_dir

    return IDCSource(demo_idc_dir(), "demo", is_demo=True, note=reason)


def _index_cached(root: Path) -> pd.DataFrame:
    """:func:`index_idc`, cached on disk; the key is the sorted list of file paths (no file is opened)."""
    files = _walk_pngs(root)
    key = stable_hash("index-v1", str(root.resolve()), len(files), files)
    path = cache_dir("idc-index") / f"{key}.pkl"
    if path.exists():
        try:
            return pd.read_pickle(path)
        except Exception:
            path.unlink(missing_ok=True)
    table = index_idc(root)
    table.to_pickle(path)
    return table


def load_idc(
    path=None,
    *,
    max_patches: int | None = None,
    max_per_patient: int | None = None,
    balance: bool = False,
    patients=None,
    seed: int = 0,
    on_small: str = "pad",
    cache: bool = True,
    progress: bool = True,
    allow_download: bool = True,
) -> IDCData:
    """Find, index, subsample and decode IDC patches, with a cache of the decoded arrays.

    Parameters
    ----------
    path : path-like, optional
        IDC folder; default: see :func:`find_idc`.
    max_patches, max_per_patient, balance, seed
        Workshop subsampling, see :func:`subsample` (patient-stratified, reproducible).
    patients : sequence of str, optional
        Keep only these patient ids (before subsampling).
    on_small : {"pad", "drop"}
        Slide-edge patches smaller than 50 x 50: pad with white (default; ``table.padded`` marks them) or drop.
    cache : bool
        Keep the decoded array on disk (``$HISTO_CACHE_DIR``) so the next notebook loads it in well under a second.

    Returns
    -------
    IDCData
        ``.images`` uint8 (n, 50, 50, 3), ``.table`` aligned with it, ``.source``, ``.report``.
    """
    if on_small not in ("pad", "drop"):
        raise ValueError(f"on_small must be 'pad' or 'drop', not {on_small!r}")
    source = find_idc(path, allow_download=allow_download)
    if source.is_demo:
        from .demo import HOW_TO_GET_REAL

        warn_demo("IDC patches", source.note, HOW_TO_GET_REAL)
    full = _index_cached(source.root) if cache else index_idc(source.root)
    table = full
    if patients is not None:
        wanted = {str(p) for p in patients}
        table = table[table["patient"].isin(wanted)].reset_index(drop=True)
        table.attrs = dict(full.attrs)
        if table.empty:
            raise DataError(f"None of the requested patients are in {source.root}.")
    table = subsample(table, max_patches=max_patches, max_per_patient=max_per_patient, balance=balance, seed=seed)
    unreadable = (table["width"] == 0) | (table["height"] == 0)
    small = ((table["width"] < PATCH_SIZE) | (table["height"] < PATCH_SIZE)) & ~unreadable
    key = stable_hash("arrays-v1", str(source.root.resolve()), table["path"].tolist(), on_small)
    folder = cache_dir("idc-arrays")
    npy, meta = folder / f"{key}.npy", folder / f"{key}.json"
    images = None
    if cache and npy.exists() and meta.exists():
        try:
            info = json.loads(meta.read_text())
            images = np.load(npy)
            ok = np.array(info["ok"], dtype=bool)
            n_corrupt = info["n_corrupt"]
        except Exception:
            images = None
        if images is not None and n_corrupt:
            warnings.warn(
                f"{n_corrupt} patch file(s) of this selection could not be decoded and were skipped "
                "(see the first load's warning for their names).",
                stacklevel=2,
            )
    if images is None:
        images, ok = read_patches(table["path"], on_small=on_small, progress=progress)
        # Files that are not PNGs (size 0x0 in the index) and decoding failures both count as corrupt.
        n_corrupt = int((~ok & ~(small & (on_small == "drop"))).sum())
        if cache:
            tmp = folder / f"{key}.tmp.npy"
            np.save(tmp, images)
            os.replace(tmp, npy)
            meta.write_text(json.dumps({"ok": ok.tolist(), "n_corrupt": n_corrupt}))
    padded = (small & ok).to_numpy() if on_small == "pad" else np.zeros(len(table), bool)
    table = table.assign(padded=padded)[ok].reset_index(drop=True)
    table.attrs = dict(full.attrs)
    report = {
        "n_indexed": len(full),
        "n_selected": int(len(ok)),
        "n_loaded": len(table),
        "n_small": int(small.sum()),
        "on_small": on_small,
        "n_padded": int(padded.sum()),
        "n_dropped_small": int(small.sum()) if on_small == "drop" else 0,
        "n_corrupt": n_corrupt,
        "n_duplicates": int(full.attrs.get("n_duplicates", 0)),
    }
    return IDCData(images=images, table=table, source=source, report=report)

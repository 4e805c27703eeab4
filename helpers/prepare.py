"""Handouts for the day (``python -m helpers prepare``): the only module that touches the network.

Every file is decoded before it is copied (corrupt ones are reported, not copied); its SHA-256 goes into
``manifest.json``, which :func:`verify` (``python -m helpers check --verify``) checks. Downloads are announced,
show a progress bar and give up after ``timeout`` seconds without an answer.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

from .data import (COMPLETE_SLIDES, SOURCES, DataError, _kagglehub_cached, cache_dir, data_dir,
                   how_to_get, index_idc, index_kather, sample_patches)

__all__ = ["prepare_idc", "prepare_kather", "verify", "download"]


def _quiet(message: str) -> None:
    """The default ``log``: say nothing."""


@contextmanager
def _requests_timeout(seconds: float):
    """Give every ``requests`` call made inside (kagglehub's too) a connect and read timeout."""
    import requests.adapters

    original = requests.adapters.HTTPAdapter.send

    def send(self, request, **kwargs):
        kwargs["timeout"] = kwargs.get("timeout") or (seconds, seconds)
        return original(self, request, **kwargs)

    requests.adapters.HTTPAdapter.send = send
    try:
        yield
    finally:
        requests.adapters.HTTPAdapter.send = original


def download(name: str, *, timeout: float = 30, progress: bool = True, log=_quiet) -> Path:
    """Download data set ``name`` ("idc": kagglehub, pinned version; "kather": Zenodo with pooch, MD5-checked);
    return the folder. :class:`DataError` when it fails or nothing answers within ``timeout`` seconds."""
    s = SOURCES[name]
    try:
        if name == "idc":
            handle = f"{s['kaggle']}/versions/{s['kaggle_version']}"
            log(f"Downloading {s['title']} from Kaggle ({handle}, {s['size']}) into the kagglehub cache "
                f"(~/.cache/kagglehub or $KAGGLEHUB_CACHE); giving up after {timeout:g} s without an answer.")
            import kagglehub

            with _requests_timeout(timeout):
                return Path(kagglehub.dataset_download(handle))
        import pooch

        dest = cache_dir("downloads")
        log(f"Downloading {s['title']} from Zenodo (doi:{s['doi']}, {s['size']}) into {dest}; giving up after "
            f"{timeout:g} s without an answer.")
        pooch.retrieve(s["zenodo_url"], known_hash=s["zenodo_md5"], fname="kather2016.zip", path=dest,
                       processor=pooch.Unzip(extract_dir="kather2016"),
                       downloader=pooch.HTTPDownloader(timeout=timeout, progressbar=progress))
        return dest / "kather2016"
    except Exception as exc:  # noqa: BLE001 - network, proxy, authentication, checksum ...
        raise DataError(f"The download of the {s['title']} failed ({type(exc).__name__}: {str(exc)[:300]}). "
                        f"{how_to_get(name)}") from exc


def _paths(name: str, source, out, download_: bool, timeout: float, progress: bool, log) -> tuple[Path, Path]:
    """(folder to copy from: ``source``, the environment variable, the kagglehub cache or a download; ``out``)."""
    s = SOURCES[name]
    found = source or os.environ.get(s["env"], "").strip() or _kagglehub_cached(name)
    if not found and not download_:
        raise DataError(f"Nothing to prepare the {s['title']} from: give --source DIR (an unzipped copy), set "
                        f"{s['env']}, or add --download. {how_to_get(name)}")
    src = Path(found).expanduser() if found else download(name, timeout=timeout, progress=progress, log=log)
    out = Path(out) if out is not None else (data_dir() or Path("data")) / s["prepared"]
    o, r = out.resolve(), src.resolve()
    if o == r or r in o.parents or o in r.parents:
        raise DataError(f"--out {out} and --source {src} overlap (one is inside the other): the copy would "
                        "read or delete itself. Choose an --out outside the source.")
    return src, out


def _write(rows, out: Path, manifest: dict, *, force: bool, progress: bool, log) -> dict:
    """Decode and copy ``rows`` ((source file, path relative to ``out``) pairs) into ``out``; write the manifest
    with counts (per class: 1st folder of a Kather path, 2nd of an IDC path), corrupt files and SHA-256 sums."""
    from PIL import Image
    from tqdm.auto import tqdm

    if out.exists() and any(out.iterdir()) and not (out / "manifest.json").exists():
        raise DataError(f"{out} exists and is not a prepared folder (no manifest.json): not touching it. "
                        "Choose another --out.")
    if out.exists() and any(out.iterdir()) and not force:
        raise DataError(f"{out} already exists. Add --force to replace it, or choose another --out.")
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    checksums, corrupt = {}, []
    for src, rel in tqdm(rows, desc=f"Copying to {out.name}", unit="file", disable=not progress):
        blob = Path(src).read_bytes()
        try:
            with Image.open(io.BytesIO(blob)) as im:
                im.load()
        except Exception as exc:  # noqa: BLE001 - any decoder error means a corrupt file
            corrupt.append(f"{src} ({type(exc).__name__})")
            continue
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / rel).write_bytes(blob)  # byte for byte
        checksums[rel] = hashlib.sha256(blob).hexdigest()
    if corrupt:
        log(f"{len(corrupt)} corrupt file(s) not copied: " + "; ".join(corrupt[:5]))
    parts = [rel.split("/") for rel in checksums]
    idc = manifest["dataset"] == "idc"
    manifest = {**manifest, "created": time.strftime("%Y-%m-%d %H:%M:%S"), "n_patches": len(checksums),
                **({"n_patients": len({p[0] for p in parts})} if idc else {}),
                "n_per_class": dict(sorted(Counter(p[1 if idc else 0] for p in parts).items())),
                "n_corrupt_skipped": len(corrupt), "corrupt": corrupt[:50], "sha256": checksums}
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    shutil.rmtree(out, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp.rename(out)
    return {**manifest, "out": str(out)}


def prepare_idc(source=None, out=None, *, download: bool = False, max_patches: int = 20_000,
                complete_slides=None, random_state: int = 0, on_mismatch: str = "raise", force: bool = False,
                timeout: float = 30, progress: bool = True, log=_quiet) -> dict:
    """Copy complete slides and a patient-stratified subset of the other patients into ``out``.

    Parameters
    ----------
    source : path-like, optional
        IDC folder in the Kaggle layout; default ``HISTO_IDC_DIR``, else the kagglehub cache, else (with
        ``download=True``) a Kaggle download.
    out : path-like, optional
        Default ``data/idc_subset`` in the repository.
    max_patches : int
        Patches in the handout, complete slides included.
    complete_slides : sequence of str, optional
        Patients kept whole. Default: of :data:`~helpers.data.COMPLETE_SLIDES`, in that order, those in the
        source that fit in half of ``max_patches``.
    random_state : int
        Seed of the subset (:func:`helpers.data.sample_patches`).

    Returns
    -------
    dict
        The manifest (also ``out/manifest.json``): counts, complete slides, corrupt files skipped, SHA-256 sums."""
    src, out = _paths("idc", source, out, download, timeout, progress, log)
    table = index_idc(src, on_mismatch=on_mismatch, read_sizes=False)  # every file is decoded below anyway
    sizes = table.groupby("patient").size()
    if complete_slides is None:  # the known complete slides, in order, while they fit in half the budget
        complete_slides = []
        for p in COMPLETE_SLIDES:
            if p in sizes.index and sizes[complete_slides + [p]].sum() <= max_patches // 2:
                complete_slides.append(p)
    complete_slides = [str(p) for p in complete_slides]
    missing = [p for p in complete_slides if p not in sizes.index]
    if missing:
        raise DataError(f"Complete slide(s) {', '.join(missing)} not in {src}; leave them out of "
                        f"--complete-slides (patients there include {', '.join(sizes.index[:8])}).")
    chosen = list(sample_patches(table, max_patches=max_patches, random_state=random_state,
                                 whole=complete_slides).itertuples(index=False))
    rows = [(r.path, f"{r.patient}/{r.label}/{Path(r.path).name}") for r in chosen]
    manifest = {"dataset": "idc", "source": str(src), "max_patches": max_patches, "random_state": random_state,
                "complete_slides": complete_slides, "n_source_patches": len(table),
                "n_source_patients": int(sizes.size)}
    return _write(rows, out, manifest, force=force, progress=progress, log=log)


def prepare_kather(source=None, out=None, *, download: bool = False, force: bool = False, timeout: float = 30,
                   progress: bool = True, log=_quiet) -> dict:
    """Copy the Kather 2016 tiles (class folders, original names) into ``out`` (default ``data/kather2016``).

    ``source``: a folder with the tiles, default ``HISTO_KATHER_DIR``, else the kagglehub cache, else (with
    ``download=True``) the Zenodo zip. Returns the manifest (also in ``out/manifest.json``).
    """
    src, out = _paths("kather", source, out, download, timeout, progress, log)
    table = index_kather(src)
    rows = [(p, Path(p).relative_to(table.attrs["root"]).as_posix()) for p in table["path"]]
    return _write(rows, out, {"dataset": "kather", "source": str(src)}, force=force, progress=progress, log=log)


def verify(folder) -> list[str]:
    """Check a prepared folder against its manifest; return the problems (an empty list when it is intact)."""
    folder = Path(folder)
    try:
        sums = json.loads((folder / "manifest.json").read_text())["sha256"]
    except (OSError, ValueError, KeyError) as exc:
        return [f"{folder}: no readable manifest.json with checksums ({type(exc).__name__})"]
    return [f"missing: {rel}" if not (folder / rel).is_file() else f"changed: {rel}" for rel, digest in sums.items()
            if not (folder / rel).is_file() or hashlib.sha256((folder / rel).read_bytes()).hexdigest() != digest]

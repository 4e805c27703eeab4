"""The synthetic demo data: deterministic, in the exact layout, with visible class differences."""

from __future__ import annotations

import hashlib

import numpy as np

from helpers import demo
from helpers.data import index_idc, read_patches


def _digest(root):
    h = hashlib.sha1()
    for p in sorted(root.rglob("*.png")):
        h.update(p.relative_to(root).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def test_demo_is_deterministic(tmp_path):
    a = demo.make_demo_idc(tmp_path / "a", n_patients=2, seed=3)
    b = demo.make_demo_idc(tmp_path / "b", n_patients=2, seed=3)
    c = demo.make_demo_idc(tmp_path / "c", n_patients=2, seed=4)
    assert _digest(a) == _digest(b) != _digest(c)


def test_demo_layout_and_class_balance(demo_root):
    table = index_idc(demo_root)
    assert table.patient.min() == str(demo.DEMO_PATIENT_BASE)
    assert 0.1 < table.label.mean() < 0.5
    assert ((table.width < 50) | (table.height < 50)).any()


def test_demo_classes_differ_like_he(demo_root):
    """Tumour patches are darker and more haematoxylin-rich than non-tumour ones."""
    from skimage.color import rgb2hed

    table = index_idc(demo_root)
    images, _ = read_patches(table.path, progress=False)
    hema = rgb2hed(images)[..., 0].mean(axis=(1, 2))
    y = table.label.to_numpy()
    assert hema[y == 1].mean() > hema[y == 0].mean()
    assert images[y == 1].mean() < images[y == 0].mean()


def test_demo_patients_have_different_stains():
    means = [demo.render_demo_slide(demo.DEMO_PATIENT_BASE + k)[0].reshape(-1, 3).mean(0) for k in range(3)]
    assert np.ptp(np.array(means), axis=0).max() > 3

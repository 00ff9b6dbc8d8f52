"""Downsampling keeps each bucket's extremes, and the visible range maps to rows."""

from __future__ import annotations

import numpy as np

from jupyter_mlapp.data.downsample import MAX_POINTS, downsample, visible_rows


def test_short_series_are_not_downsampled():
    assert downsample(np.arange(10.0)).tolist() == list(range(10))
    assert downsample(np.arange(10.0), 3, 6).tolist() == [3, 4, 5]


def test_long_series_keep_every_bucket_extreme():
    rng = np.random.default_rng(3)
    y = np.cumsum(rng.standard_normal(1_000_000)) / 100
    # One spike up and one down in each of 100 buckets, at random places (in the middle half,
    # so spikes of two buckets never share one of the sampler's 500 buckets): a chart that
    # loses any of them lies about the data.
    buckets = np.array_split(np.arange(len(y)), 100)
    spikes = []
    for i, bucket in enumerate(buckets):
        quarter = len(bucket) // 4
        up, down = rng.choice(bucket[quarter:-quarter], 2, replace=False)
        y[up], y[down] = 1000 + i, -1000 - i
        spikes += [up, down]
    rows = downsample(y)
    assert len(rows) <= MAX_POINTS
    assert np.all(np.diff(rows) > 0)
    assert set(spikes) <= set(rows.tolist())
    for bucket in buckets:
        picked = rows[(rows >= bucket[0]) & (rows <= bucket[-1])]
        assert y[picked].max() == y[bucket].max() and y[picked].min() == y[bucket].min()


def test_a_range_is_downsampled_at_full_detail():
    y = np.sin(np.linspace(0, 200, 2_000_000))
    rows = downsample(y, 1_000_000, 1_003_000)
    assert rows.tolist() == list(range(1_000_000, 1_003_000))  # fewer rows than points: all
    rows = downsample(y, 500_000, 1_500_000, n_out=1000)
    assert len(rows) <= 1000 and rows[0] >= 500_000 and rows[-1] < 1_500_000


def test_nan_gaps_stay_visible():
    y = np.random.default_rng(0).standard_normal(100_000)
    y[40_000:41_000] = np.nan
    rows = downsample(y, n_out=500)
    assert np.isnan(y[rows]).any()


def test_visible_rows_by_arithmetic_and_by_values():
    assert visible_rows(100, None, None) == (0, 100)
    assert visible_rows(100, 10, 20) == (9, 22)
    assert visible_rows(100, 15, 25, x0=10, dx=1) == (4, 17)
    x = np.array([0.0, 1.0, 2.0, 4.0, 8.0, 16.0])
    assert visible_rows(len(x), 2.0, 8.0, x) == (1, 6)
    assert visible_rows(len(x), 100.0, 200.0, x) == (5, 6)

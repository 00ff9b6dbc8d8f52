from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest


@pytest.fixture
def big():
    """A million rows of six float columns: the size the grid and the chart must stay fast at."""
    rows = 1_000_000
    rng = np.random.default_rng(0)
    return pd.DataFrame({f"f{i}": rng.standard_normal(rows) for i in range(6)})


@pytest.fixture(autouse=True)
def charts_drawn():
    """A long frame's chart is drawn in a thread: it ends with its test, not during the next one."""
    yield
    for thread in threading.enumerate():
        if thread.name == "mlapp-chart":
            thread.join()

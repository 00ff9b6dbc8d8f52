from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture
def big():
    """A million rows of six float columns: the size the grid and the chart must stay fast at."""
    rows = 1_000_000
    rng = np.random.default_rng(0)
    return pd.DataFrame({f"f{i}": rng.standard_normal(rows) for i in range(6)})

"""The one array type every indicator returns, so signatures stay short and mypy strict holds."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

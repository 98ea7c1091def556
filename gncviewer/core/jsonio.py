"""Plain JSON out of results: NumPy and torch scalars and arrays, NaN and Inf as null.

One function for every JSON gncviewer writes (CLI results, sessions, exports), so they agree on how
a non-finite number or an array is written.
"""

from __future__ import annotations

import json
import math
from typing import Any


def jsonable(value: Any) -> Any:
    """Plain JSON types, with NaN/Inf turned into null (strict JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "tolist"):
        return jsonable(value.tolist())
    if hasattr(value, "item") and callable(value.item):
        return jsonable(value.item())
    return value


def json_text(payload: Any) -> str:
    """Indented strict JSON text with a final newline."""
    return json.dumps(jsonable(payload), indent=1, allow_nan=False) + "\n"

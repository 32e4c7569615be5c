"""Python values as JavaScript literals that are safe inside a <script> element."""

from __future__ import annotations

import json
from typing import Any


def script_safe(json_text: str) -> str:
    """JSON text with <, > and & escaped so it cannot close or confuse the <script>."""
    return json_text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def js_literal(value: Any) -> str:
    """A JSON-serialisable value as a script-safe literal, Chinese kept readable."""
    return script_safe(json.dumps(value, ensure_ascii=False))

"""Building HTML text safely: every text and attribute value is escaped on the way in.

`element` is the only way the report writes a tag with content it did not write itself;
`json_block` embeds data for the page's script in a form no string inside can end or
break out of. Nothing here knows what a run is.

    >>> element("td", "<b>", class_="x", data_value=1)
    '<td class="x" data-value="1">&lt;b&gt;</td>'
    >>> script_safe_json({"text": "</script>"})
    '{"text":"\\\\u003c/script\\\\u003e"}'
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from typing import Any


class Markup(str):
    """Text that is already HTML (made here): `element` does not escape it again."""

    __slots__ = ()


def escape(value: object) -> str:
    """``value`` as HTML text (``Markup`` stays as it is)."""
    if isinstance(value, Markup):
        return value
    return html.escape("" if value is None else str(value), quote=True)


def _attribute_name(name: str) -> str:
    # class_ -> class, data_value -> data-value
    return name.rstrip("_").replace("_", "-")


def element(tag: str, *content: object, **attributes: object) -> Markup:
    """``<tag attributes>content</tag>``; ``None`` or ``False`` attributes are left out,
    ``True`` ones written bare."""
    parts = [tag]
    for name, value in attributes.items():
        if value is None or value is False:
            continue
        if value is True:
            parts.append(_attribute_name(name))
        else:
            parts.append(f'{_attribute_name(name)}="{escape(value)}"')
    inner = "".join(escape(item) for item in content)
    return Markup(f"<{' '.join(parts)}>{inner}</{tag}>")


def join(items: Iterable[object]) -> Markup:
    """Items escaped (unless `Markup`) and concatenated."""
    return Markup("".join(escape(item) for item in items))


def script_safe_json(data: Any) -> str:
    """Compact JSON in which ``<``, ``>`` and ``&`` are written as ``\\u`` escapes, so no
    string inside can close a ``<script>`` element or open a comment."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def json_block(identifier: str, data: Any) -> Markup:
    """A ``<script type="application/json">`` element: data, never run by the browser."""
    return Markup(
        f'<script type="application/json" id="{escape(identifier)}">'
        f"{script_safe_json(data)}</script>"
    )

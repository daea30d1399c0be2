"""Building HTML text safely: every text and attribute value is escaped on the way in.

`element` is the only way the report writes a tag with content it did not write itself;
`data_block` embeds data for the page's script in a form no string inside can end or
break out of. Nothing here knows what a run is.

    >>> element("td", "<b>", class_="x", data_value=1)
    '<td class="x" data-value="1">&lt;b&gt;</td>'
"""

from __future__ import annotations

import base64
import gzip
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


def data_block(identifier: str, data: Any) -> Markup:
    """A ``<script type="application/gzip+base64">`` element: JSON, gzipped, in base64.

    The browser never runs it (not a script type) and no string inside can close it or
    open a tag (base64 has no ``<``); the page inflates it when the panel is opened.
    Compressed, a panel of 16 debugged candidates is about a quarter of its JSON.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    packed = base64.b64encode(gzip.compress(text.encode("utf-8"), mtime=0)).decode("ascii")
    return Markup(
        f'<script type="application/gzip+base64" id="{escape(identifier)}">{packed}</script>'
    )


def read_data_block(packed: str) -> Any:
    """The data of a `data_block`'s text (what the page's script does, for tests).

    >>> read_data_block(data_block("d", {"a": "</script>"}).split(">")[1].split("<")[0])
    {'a': '</script>'}
    """
    return json.loads(gzip.decompress(base64.b64decode(packed)).decode("utf-8"))

"""Text from data or uploads (class names, file names, run and study names, messages that quote
them) made literal before Streamlit renders it as Markdown.

Streamlit's `st.markdown`, `st.info`, `st.warning`, `st.caption`, `st.subheader` ... read their
text as Markdown (links, images, `:color[...]`, `$math$`). CommonMark lets any ASCII punctuation
be escaped with a backslash, so every one is: `[x](javascript:...)`, `![t](http://...)`, raw
HTML and bare URLs become plain text. Line breaks become spaces (a name cannot open a block).
"""

from __future__ import annotations

import re
import string

_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")


def literal(text: object) -> str:
    """`text` as Markdown that renders as exactly these characters, on one line."""
    return _PUNCTUATION.sub(r"\\\1", " ".join(str(text).splitlines()))

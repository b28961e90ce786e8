"""Text from data and uploads reaches Streamlit's Markdown as literal text (issue 26): links,
images, raw HTML, Streamlit's colour and math syntax are shown, never rendered."""

from __future__ import annotations

import html

import pytest

from tradeoffs.dashboard import session
from tradeoffs.dashboard.markdown import literal
from tradeoffs.dashboard.predict import Prediction

markdown_it = pytest.importorskip("markdown_it")
HOSTILE = [
    "[x](javascript:alert(1))",
    "![t](http://example.com/track.png)",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "http://example.com/bare",
    ":red[alarm] $x^2$ **bold** `code` # heading",
    "line one\n# two\n- three",
    "back\\slash_and*stars*",
]


def _render(text: str) -> str:
    return markdown_it.MarkdownIt("commonmark", {"html": True}).render(text)


@pytest.mark.parametrize("text", HOSTILE)
def test_literal_text_renders_as_itself(text: str) -> None:
    shown = " ".join(text.splitlines())
    assert _render(literal(text)) == f"<p>{html.escape(shown, quote=False)}</p>\n"


def _prediction(label: str) -> Prediction:
    return Prediction(label, 0.5, [(label, 0.5)], 1.0, 2.0)


def test_summary_lines_escape_file_run_and_class_names() -> None:
    run = {"run": "<b>run</b>", "model": "m", "precision": "fp32", "backend": "torch-cpu"}
    rows = [session.row(name, run, _prediction(HOSTILE[1])) for name in HOSTILE[:3]]
    for line in session.summary_lines(session.table(rows), last=3):
        rendered = _render(line)
        assert "<a " not in rendered and "<img" not in rendered and "<b>" not in rendered
        assert "<strong>" in rendered  # the line's own emphasis still works

"""The portals' colours: every text colour app.css uses, on every background it is used on, has
a contrast ratio of at least 4.5:1 (WCAG 2 AA for normal text). The pairs are read from the
stylesheet's own variables, so a colour changed there is checked here."""

from __future__ import annotations

import re

import pytest

from edgewise.central.web.templating import HERE

CSS = (HERE / "static" / "app.css").read_text()
VARS = dict(re.findall(r"--([a-z]+):\s*(#[0-9a-fA-F]{6})", CSS))
# (text, background) as app.css pairs them: a name is a variable, else a literal colour
PAIRS = [
    ("ink", "paper"), ("muted", "paper"), ("link", "paper"), ("ok", "paper"), ("warn", "paper"),
    ("bad", "paper"), ("ink", "panel"), ("muted", "panel"), ("link", "panel"),
    ("#ffffff", "brand"), ("#ffffff", "bad"), ("ink", "#e1e6ec"), ("ink", "#dde6ef"),
    ("ink", "#e6f0fa"), ("#6e0f12", "#fbeaea"), ("bad", "#fbeaea"),
]  # fmt: skip


def colour(name: str) -> str:
    return name if name.startswith("#") else VARS[name]


def luminance(hex_colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def ratio(text: str, background: str) -> float:
    lighter, darker = sorted((luminance(text), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_the_stylesheet_declares_the_colours_checked_here() -> None:
    assert {"ink", "muted", "paper", "panel", "brand", "link", "ok", "warn", "bad"} <= set(VARS)
    for literal in ("#e1e6ec", "#dde6ef", "#e6f0fa", "#6e0f12", "#fbeaea"):
        assert literal in CSS, literal


@pytest.mark.parametrize(("text", "background"), PAIRS)
def test_text_has_aa_contrast_on_its_background(text: str, background: str) -> None:
    found = ratio(colour(text), colour(background))
    assert found >= 4.5, f"{text} on {background}: {found:.2f}:1"


def test_the_ratio_is_computed_as_wcag_says() -> None:
    assert ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)

"""/docs shows its Chinese where no Chinese font is installed (issue 18): Swagger UI's
own fonts have none, so every text in the explorer falls back to the packaged
cityeye-sans (tests/browser/docs.mjs)."""

from __future__ import annotations

from pathlib import Path

from serving import run_in_browser


def test_every_chinese_text_in_the_api_explorer_has_the_packaged_font(tmp_path: Path) -> None:
    report, _ = run_in_browser(
        tmp_path,
        "docs.mjs",
        users={"reader": ("--role", "admin")},
        password="docs-pass-12345",
        env={},
    )
    assert report["errors"] == []
    chinese = report["chinese"]
    assert isinstance(chinese, list)
    assert any("城市眼" in text for text in chinese)  # the title
    assert any("处置率" in text for text in chinese)  # the opened operation's description
    assert report["bare"] == []  # each in a family ending in cityeye-sans
    assert report["unloaded"] == []  # and its glyphs loaded from the package

"""`cityeye world validate|load` as a user runs them."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cityeye.cli import app
from cityeye.store import Store

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
runner = CliRunner()


def test_validate_names_all_three_planted_errors() -> None:
    bad = FIXTURES / "world_three_errors.yaml"
    result = runner.invoke(app, ["world", "validate", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:6: areas[1].level:" in result.output
    assert f"{bad}:7: areas[2].parent: unknown area '330105009009'" in result.output
    assert f"{bad}:11: devices[0].subject: unknown subject 'S404'" in result.output
    assert "3 problem(s)" in result.output


def test_validate_good_file_summarises_it() -> None:
    result = runner.invoke(app, ["world", "validate", str(FIXTURES / "world_small.yaml")])
    assert result.exit_code == 0, result.output
    assert "1 streets 街道, 2 communities 社区, 3 grids 网格" in result.output


def test_load_stores_the_world(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    result = runner.invoke(app, ["world", "load", str(FIXTURES / "world_small.yaml"), "--db", url])
    assert result.exit_code == 0, result.output
    store = Store.open(url)
    try:
        world = store.load_world()
        assert world is not None
        assert world.district.name == "拱墅区"
        assert set(world.devices) == {"D1", "D2", "D3", "D4"}
    finally:
        store.close()


def test_load_refuses_a_bad_file_and_stores_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    result = runner.invoke(
        app, ["world", "load", str(FIXTURES / "world_three_errors.yaml"), "--db", url]
    )
    assert result.exit_code == 1
    assert not (tmp_path / "c.db").exists()

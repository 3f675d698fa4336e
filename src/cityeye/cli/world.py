"""``cityeye world`` (validate, load, generate the demo district) and ``cityeye db``
(the schema): a database made ready for a district."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cityeye.cli.common import DbOption, out, world_or_exit
from cityeye.domain import AreaLevel, World
from cityeye.store import DEFAULT_URL, Store
from cityeye.world import dump_world_file

world_app = typer.Typer(help="世界文件 World files: validate, load, generate the demo district.")
db_app = typer.Typer(help="数据库 Database: migrations.")


def _summary(world: World) -> str:
    levels = {level: len(world.at_level(level)) for level in AreaLevel}
    return (
        f"{world.district.name}: {levels[AreaLevel.STREET]} streets 街道, "
        f"{levels[AreaLevel.COMMUNITY]} communities 社区, {levels[AreaLevel.GRID]} grids 网格, "
        f"{len(world.parties)} parties 主体, {len(world.devices)} devices 设备, "
        f"{len(world.subjects)} subjects 对象, {len(world.venues)} venues 场所"
        + (f", {len(world.buildings)} buildings 楼宇" if world.buildings else "")
        + (f", {len(world.households)} owner households 业主户" if world.households else "")
    )


@world_app.command("validate")
def world_validate(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Check a world file and report every problem with its line and path."""
    world = world_or_exit(file)
    out.print(f"[green]✓[/green] {file}: {_summary(world)}")


@world_app.command("load")
def world_load(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    db: DbOption = DEFAULT_URL,
) -> None:
    """Validate a world file and store it (replacing the stored world). The KPI counters
    are recounted, since areas may have moved (a grid to another community)."""
    world = world_or_exit(file)
    store = Store.open(db)
    try:
        store.save_world(world)
        with out.status("recounting KPI counters 重算指标计数…"):
            rows = store.rebuild_kpis()
    finally:
        store.close()
    out.print(f"[green]✓[/green] loaded into {db}: {_summary(world)}; {rows} KPI counter rows")


@world_app.command("demo")
def world_demo(
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the YAML.")] = Path(
        "world.yaml"
    ),
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same district.")] = 2021,
) -> None:
    """Generate the demo district (拱墅区, from the seed documents' facts)."""
    from cityeye.demo.district import build_demo_world

    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(dump_world_file(build_demo_world(seed)), encoding="utf-8")
    world = world_or_exit(out_file)
    out.print(f"[green]✓[/green] wrote {out_file}: {_summary(world)}")


@db_app.command("upgrade")
def db_upgrade(db: DbOption = DEFAULT_URL) -> None:
    """Create or migrate the database schema to the newest version."""
    Store.open(db).close()
    out.print(f"[green]✓[/green] {db} is at the newest schema")

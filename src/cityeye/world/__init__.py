"""World files: the district as data (areas, parties, devices, subjects, venues)."""

from cityeye.world.dump import dump_world_file
from cityeye.world.geo import GridLocator
from cityeye.world.load import WorldError, build_world, load_world

__all__ = ["GridLocator", "WorldError", "build_world", "dump_world_file", "load_world"]

"""The collectors events arrive through, and which device reports through which.

An event's ``source`` is its collector: ids are numbered per collector (:mod:`.delivery`)
and the ingest side is configured per collector, so the mapping from a device to its
collector is fixed here once, for the channels and for the benches that write their
own traffic for the demo district (bench/live.py, bench/soak.py).
"""

from __future__ import annotations

import zlib

from cityeye.domain import Device

SOURCE_CAMERA = "camera-ai"
SOURCE_ELEVATOR = "elevator-iot"
SOURCE_HOTLINE = "12345"
SOURCE_APP = "app"
SOURCE_ENTERPRISE = "xiaohe-wangyi"  # 小河网驿 enterprise data
N_GATEWAYS = 4


def gateway(device_id: str) -> str:
    """The IoT gateway (collector) a sensor reports through: stable per device."""
    return f"iot-gw-{zlib.crc32(device_id.encode()) % N_GATEWAYS + 1}"


def source_of(device: Device) -> str:
    """The collector name for events from ``device``."""
    if device.kind in ("camera", "kitchen_camera"):
        return SOURCE_CAMERA
    if device.kind == "elevator_monitor":
        return SOURCE_ELEVATOR
    return gateway(device.id)

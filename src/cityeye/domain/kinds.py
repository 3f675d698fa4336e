"""The vocabulary of perception (城市眼): which event kinds exist and who emits them.

One table, read by the simulator (what each device sends), by replay (which kinds are
known; unknown ones are stored and counted, never refused), by the demo district (which
devices to install) and by the glossary in ``docs/``. A scenario may read any kind,
known here or not; this table is the documented core, not a whitelist.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KindInfo:
    """An event kind with its names and the attributes it carries."""

    kind: str
    zh: str
    en: str
    attrs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DeviceKindInfo:
    """A kind of device and the event kinds it emits."""

    kind: str
    zh: str
    en: str
    emits: tuple[str, ...]


EVENT_KINDS: dict[str, KindInfo] = {
    k.kind: k
    for k in (
        KindInfo("door.open", "门禁开门", "door opened", ("method",)),
        KindInfo("door.closed", "门已关闭", "door closed"),
        KindInfo("door.held_open", "门长时间未关", "door held open", ("seconds",)),
        KindInfo("access.denied", "门禁拒绝通行", "access denied", ("reason",)),
        KindInfo("motion.detected", "人体移动感应", "motion detected"),
        KindInfo("water.flow", "用水流量", "water flow", ("litres",)),
        KindInfo("button.sos", "一键呼救", "SOS button pressed"),
        KindInfo("elevator.ebike_detected", "电梯电动车识别", "e-bike detected in lift"),
        KindInfo("elevator.trapped", "电梯困人", "people trapped in lift", ("persons",)),
        KindInfo("elevator.released", "电梯困人解除", "trapped people released"),
        KindInfo("elevator.fault", "电梯故障预警", "lift fault warning", ("code",)),
        KindInfo(
            "elevator.incivility_detected",
            "不文明乘梯识别",
            "uncivil lift use detected",
            ("label",),
        ),
        KindInfo("smoke.alarm", "烟感报警", "smoke alarm", ("building",)),
        KindInfo("temperature.reading", "温感读数", "temperature reading", ("celsius",)),
        KindInfo(
            "device.maintenance_due",
            "设备频繁误报待检修",
            "device due for maintenance (frequent false alarms)",
            ("false_alarms", "false_share", "days"),
        ),
        KindInfo("gas.alarm", "燃气泄漏报警", "gas leak alarm", ("ppm",)),
        KindInfo(
            "meter.reading",
            "用电读数",
            "electric meter reading",
            ("current_a", "rated_a", "leakage_ma"),
        ),
        KindInfo("bin.fill", "垃圾桶满溢度", "bin fill level", ("level",)),
        KindInfo(
            "camera.detection",
            "视频智能识别",
            "camera AI detection",
            ("label", "score", "plate", "count", "floor", "window"),
        ),
        KindInfo(
            "camera.cleared",
            "视频识别目标消失",
            "camera detection cleared",
            ("label", "plate"),
        ),
        KindInfo("crowd.count", "人群计数", "crowd count", ("count", "elderly_ratio", "capacity")),
        KindInfo("parking.occupied", "车位占用", "parking space occupied"),
        KindInfo("parking.freed", "车位释放", "parking space freed"),
        KindInfo(
            "water.level",
            "水位读数",
            "water level reading",
            ("cm", "warning_cm", "guarantee_cm"),
        ),
        KindInfo("structure.tilt", "房屋倾斜读数", "building tilt reading", ("degrees",)),
        KindInfo("billboard.tilt", "广告牌倾角读数", "billboard tilt reading", ("degrees",)),
        KindInfo("manhole.displaced", "井盖位移", "manhole cover displaced", ("tilt_deg",)),
        KindInfo("manhole.restored", "井盖复位", "manhole cover back in place"),
        KindInfo("checkin.report", "定期报到签到", "scheduled check-in", ("method",)),
        KindInfo("wearable.position", "定位手环位置", "wearable position", ("accuracy_m",)),
        KindInfo(
            "water.quality",
            "排水口水质读数",
            "outfall water-quality reading",
            ("cod_mg_l", "nh3n_mg_l"),
        ),
        KindInfo("charging.started", "充电口开始充电", "charging port: charging started"),
        KindInfo(
            "charging.stopped", "充电口结束充电", "charging port: charging stopped", ("reason",)
        ),
        KindInfo(
            "charging.temperature", "充电口温度读数", "charging port temperature", ("celsius",)
        ),
        KindInfo(
            "license.status",
            "证照状态变更",
            "licence status change",
            ("venue", "license", "status"),
        ),
        KindInfo(
            "inspection.result",
            "检查结果",
            "inspection result",
            ("venue", "scheme", "result", "hazards", "issues", "key_issue"),
        ),
        KindInfo(
            "prepaid.deposit",
            "预收资金存管状态",
            "prepaid funds custody status",
            ("venue", "deposited_ratio", "insured_ratio"),
        ),
        KindInfo(
            "enterprise.indicator",
            "企业经营指标",
            "enterprise indicator (monthly)",
            ("metric", "value"),
        ),
        KindInfo(
            "enterprise.registration_change",
            "企业登记变更",
            "enterprise registration change",
            ("new_district",),
        ),
        KindInfo(
            "enterprise.tax_arrears",
            "企业欠税",
            "enterprise tax arrears",
            ("amount", "overdue_days"),
        ),
        KindInfo(
            "enterprise.lawsuit",
            "企业涉诉",
            "lawsuit involving an enterprise",
            ("role", "case_type", "amount"),
        ),
        KindInfo(
            "enterprise.staff_change",
            "企业人员变动",
            "enterprise staff change",
            ("change", "key", "role"),
        ),
        KindInfo(
            "enterprise.lease",
            "企业租约状态",
            "enterprise premises lease",
            ("days_left", "expires_on", "renewed"),
        ),
        KindInfo(
            "enterprise.energy", "企业周用电量", "enterprise weekly electricity use", ("kwh",)
        ),
        KindInfo(
            "enterprise.utility",
            "企业水电气缴费状态",
            "enterprise utility account status",
            ("utility", "status", "months"),
        ),
        KindInfo("report.citizen", "居民随手拍", "resident report", ("category", "text", "venue")),
        KindInfo(
            "report.hotline", "12345热线工单", "12345 hotline report", ("category", "text", "venue")
        ),
        KindInfo(
            "case.action",
            "工单处置动作",
            "case action",
            ("scenario", "key", "action", "party", "note"),
        ),
    )
}

DEVICE_KINDS: dict[str, DeviceKindInfo] = {
    d.kind: d
    for d in (
        DeviceKindInfo("door_sensor", "智能门磁", "door sensor", ("door.open",)),
        DeviceKindInfo("motion_sensor", "人体感应器", "motion sensor", ("motion.detected",)),
        DeviceKindInfo("water_meter", "智能水表", "smart water meter", ("water.flow",)),
        DeviceKindInfo("sos_button", "一键呼救按钮", "SOS button", ("button.sos",)),
        DeviceKindInfo(
            "access_gate",
            "智能门禁",
            "smart access gate",
            ("door.open", "access.denied", "door.held_open", "door.closed"),
        ),
        DeviceKindInfo(
            "elevator_monitor",
            "电梯物联网",
            "elevator IoT monitor",
            (
                "elevator.ebike_detected",
                "elevator.trapped",
                "elevator.released",
                "elevator.fault",
                "elevator.incivility_detected",
            ),
        ),
        DeviceKindInfo("smoke_detector", "烟感", "smoke detector", ("smoke.alarm",)),
        DeviceKindInfo(
            "temperature_sensor", "温感", "temperature sensor", ("temperature.reading",)
        ),
        DeviceKindInfo("gas_detector", "气感", "gas detector", ("gas.alarm",)),
        DeviceKindInfo(
            "power_meter", "电感（智慧用电）", "electrical safety meter", ("meter.reading",)
        ),
        DeviceKindInfo("bin_sensor", "垃圾桶满溢传感器", "bin fill sensor", ("bin.fill",)),
        DeviceKindInfo(
            "camera", "视频监控（雪亮工程）", "camera", ("camera.detection", "camera.cleared")
        ),
        DeviceKindInfo(
            "kitchen_camera", "食安慧眼", "kitchen camera", ("camera.detection", "camera.cleared")
        ),
        DeviceKindInfo("crowd_counter", "客流计数", "crowd counter", ("crowd.count",)),
        DeviceKindInfo(
            "parking_sensor", "车位地磁", "parking sensor", ("parking.occupied", "parking.freed")
        ),
        DeviceKindInfo("water_level_sensor", "水位计", "water level sensor", ("water.level",)),
        DeviceKindInfo(
            "tilt_sensor",
            "住安宝",
            "building safety sensor",
            ("structure.tilt", "billboard.tilt"),
        ),
        DeviceKindInfo(
            "manhole_sensor",
            "智能井盖",
            "manhole sensor",
            ("manhole.displaced", "manhole.restored"),
        ),
        DeviceKindInfo(
            "wearable_locator", "智能定位手环", "wearable locator", ("wearable.position",)
        ),
        DeviceKindInfo(
            "water_quality_sensor",
            "排水口水质监测仪",
            "outfall water-quality sensor",
            ("water.quality",),
        ),
        DeviceKindInfo(
            "charging_port",
            "智能充电口",
            "smart charging port",
            ("charging.started", "charging.stopped", "charging.temperature"),
        ),
    )
}


@dataclass(frozen=True, slots=True)
class ReportCategory:
    """A category of resident or hotline report (``attrs.category``): its names, the
    group it is listed under and words a reporting app may search by."""

    code: str
    zh: str
    en: str
    group_zh: str
    group_en: str
    keywords: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """Chinese first, English beside it: ``火灾隐患 Fire hazard``."""
        return f"{self.zh} {self.en}"

    @property
    def group(self) -> str:
        return f"{self.group_zh} {self.group_en}"


#: Names of the report categories a reportable scenario reads (``citizen.report``'s
#: ``severity.map`` keys, and ``prepaid_card`` of the hotline). Which categories can be
#: reported comes from the loaded scenarios; this table only names them, and a category
#: missing here is shown by its code.
REPORT_CATEGORIES: dict[str, ReportCategory] = {
    c.code: c
    for c in (
        ReportCategory("fire", "火灾隐患", "Fire hazard", "安全", "Safety", ("消防", "火", "fire")),
        ReportCategory(
            "safety", "安全隐患", "Safety hazard", "安全", "Safety", ("隐患", "危险", "hazard")
        ),
        ReportCategory("gas", "燃气问题", "Gas problem", "安全", "Safety", ("燃气", "煤气", "gas")),
        ReportCategory(
            "water",
            "供排水问题",
            "Water supply or drainage",
            "市政设施",
            "Infrastructure",
            ("漏水", "积水", "停水", "water"),
        ),
        ReportCategory(
            "road",
            "道路设施",
            "Road and street furniture",
            "市政设施",
            "Infrastructure",
            ("道路", "坑洼", "井盖", "pothole"),
        ),
        ReportCategory(
            "garbage",
            "垃圾环卫",
            "Garbage and street cleaning",
            "市容环境",
            "Environment",
            ("垃圾", "环卫", "litter"),
        ),
        ReportCategory(
            "noise", "噪声扰民", "Noise", "市容环境", "Environment", ("噪音", "扰民", "noise")
        ),
        ReportCategory(
            "parking",
            "违停与停车",
            "Parking",
            "交通",
            "Traffic",
            ("违停", "停车", "parking"),
        ),
        ReportCategory(
            "greening",
            "绿化养护",
            "Trees and greenery",
            "市容环境",
            "Environment",
            ("绿化", "树木", "tree"),
        ),
        ReportCategory(
            "prepaid_card",
            "预付卡纠纷",
            "Prepaid card dispute",
            "市场监管",
            "Consumer protection",
            ("预付卡", "退费", "prepaid"),
        ),
        ReportCategory("other", "其他问题", "Other", "其他", "Other", ("其他", "other")),
    )
}


#: Residents' reports (the resident's app or Open311, the 12345 hotline): each becomes
#: a case of its own, and its ``attrs.reporter`` is told the outcome.
REPORT_KINDS: tuple[str, ...] = ("report.citizen", "report.hotline")

#: Kinds only people send, signed in, through the API (``/api/v1/cases/{id}/actions``,
#: the portal's rating): a dispatcher's or handler's move, a resident's rating. No
#: ingest credential (a device's, a source's, a gateway's token, or an MQTT client)
#: may send them: a stolen sensor token must not close, dismiss or rate a case.
PEOPLE_KINDS: frozenset[str] = frozenset({"case.action"})

#: Kinds that show a person living alone is active (SCENARIOS.md "signs of life").
SIGNS_OF_LIFE: tuple[str, ...] = ("door.open", "motion.detected", "water.flow")


def is_known_kind(kind: str) -> bool:
    """Whether ``kind`` is in the documented vocabulary (unknown kinds are still stored)."""
    return kind in EVENT_KINDS

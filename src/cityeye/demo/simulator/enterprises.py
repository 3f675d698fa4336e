"""小河网驿 enterprise data: monthly indicators and registration changes.

Not sensor traffic but a data bureau's monthly publication: three months of history
are replayed at the head of the stream so that ``enterprise.abnormal`` has a mean to
compare this month with, and registration changes arrive as single records.
"""

from __future__ import annotations

from datetime import datetime

from cityeye.demo.simulator.clock import add_months
from cityeye.demo.simulator.sources import SOURCE_ENTERPRISE
from cityeye.demo.simulator.stream import Stream


def enterprises(sim: Stream) -> None:
    """小河网驿 monthly indicators: the previous three months are replayed as history
    at the start of the stream (ts on the 1st of each month), then this month's."""
    plan = sim.plan
    month = plan.month_ts()
    ents = sorted(s.id for s in sim.world.subjects.values() if "enterprise" in s.tags)
    abnormal = {
        sid: plan.get("enterprise.abnormal", f"metric:{sid}")[0]
        for sid in plan.get("enterprise.abnormal", "positive")
    }
    near = set(plan.get("enterprise.abnormal", "near_miss"))
    if month < sim.end:  # history only leads up to this month's values
        current = datetime.fromtimestamp(month, sim.tz)
        first = current.replace(day=1, hour=9, minute=0, second=0, microsecond=0)
        months = [*(add_months(first, k) for k in (-3, -2, -1)), current]
        for sid in ents:
            subject = sim.world.subjects[sid]
            rng = sim.rng(f"ent/{sid}")
            bases = {"revenue": rng.uniform(300, 30000), "electricity": rng.uniform(2e4, 8e5)}
            units = {"revenue": "万元", "electricity": "kWh"}
            planted = sid in abnormal or sid in near
            for metric, base in bases.items():
                history = [base * rng.uniform(0.9, 1.1) for _ in range(3)]
                mean = sum(history) / 3
                now = mean * rng.uniform(0.9, 1.1)
                if abnormal.get(sid) == metric:
                    now = mean * (0.38 if metric == "revenue" else 0.30)
                elif sid in near and metric == "revenue":
                    now = mean * 0.55
                for m, value in zip(months, [*history, now], strict=True):
                    ts = int(m.timestamp())
                    sim.emit(
                        ts,
                        "enterprise.indicator",
                        {
                            "metric": metric,
                            "value": round(value, 1),
                            "unit": units[metric],
                            "month": m.strftime("%Y-%m"),
                        },
                        source=SOURCE_ENTERPRISE,
                        base=sid,
                        subject=sid,
                        area=subject.area,
                        planted=planted,
                        backfill=True,
                        eid=f"{sid}-{metric}-{m.strftime('%Y%m')}",
                    )
    for p in plan.plants:
        if p.scenario != "enterprise.relocation":
            continue
        subject = sim.world.subjects[p.key]
        t0 = int(p.at.timestamp())
        if p.role == "positive":
            attrs = {
                "change": "address",
                "new_district": "330110",
                "new_address": "杭州市余杭区仓前街道文一西路1号",
                "text": f"{subject.name or p.key}注册地址迁出至余杭区",
            }
        else:
            change = plan.variants[(p.scenario, p.key)]
            what = "注册地址（区内）" if change == "address" else "法定代表人"
            attrs = {
                "change": change,
                "new_district": sim.world.district.code,
                "text": f"{subject.name or p.key}变更{what}",
            }
        sim.emit(
            t0,
            "enterprise.registration_change",
            attrs,
            source=SOURCE_ENTERPRISE,
            base=f"{p.key}-reg",
            subject=p.key,
            area=subject.area,
            planted=True,
        )

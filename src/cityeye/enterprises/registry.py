"""The key-enterprise registry (重点企业名录): who may see and change an enterprise,
how a change is checked and recorded, and the xlsx/CSV import.

Who may (docs/enterprises.md): an admin everything; a dispatcher (街道、社区干部) reads
and changes the enterprises in their post's areas; a leader reads them; a handler reads
the enterprises they are responsible for (包联) and nothing else; residents nothing.
An enterprise the caller may not see is not there (404).
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cityeye.documents.grid import grid_rows
from cityeye.domain import World
from cityeye.domain.areas import AreaLevel
from cityeye.domain.enterprises import (
    TRACKED,
    Change,
    Contact,
    Enterprise,
    EnterpriseSize,
    RiskLevel,
    check_credit_code,
)
from cityeye.domain.users import User, UserRole, scope_of
from cityeye.errors import FieldError, Problem, ProblemsError
from cityeye.ingest.hotline.masking import mask_phone
from cityeye.store import Store
from cityeye.store import enterprises as db
from cityeye.store.users import get_user, list_users

#: The roles that may be an enterprise's 包联干部: street and community staff
#: (dispatchers) and the people of a party (handlers, e.g. 街道企业服务办).
STAFF_ROLES = frozenset({UserRole.DISPATCHER, UserRole.HANDLER})


# ---------------------------------------------------------------------- who may
def may_read(user: User) -> bool:
    """Whether ``user`` works with the registry at all (residents do not)."""
    return user.role != UserRole.RESIDENT


def visible(user: User, world: World, enterprise: Enterprise) -> bool:
    """Whether ``user`` may see ``enterprise``: within their post's areas, or (a
    handler) one they are responsible for."""
    if user.role == UserRole.HANDLER:
        return enterprise.staff_id == user.id
    return may_read(user) and scope_of(user, world).allows(enterprise.area)


def may_edit(user: User, world: World, area: str) -> bool:
    """Admins, and dispatchers whose post covers ``area``, keep the registry."""
    if user.role == UserRole.ADMIN:
        return True
    return user.role == UserRole.DISPATCHER and scope_of(user, world).allows(area)


def street_of(world: World, area: str) -> str | None:
    """The code of the street ``area`` is in (itself if it is one)."""
    for found in world.ancestors(area):
        if found.level == AreaLevel.STREET:
            return found.code
    return None


def masked_contacts(contacts: Iterable[Contact]) -> list[dict[str, str]]:
    """Contacts as a list shows them: the phone masked (138****1234)."""
    return [
        {"name": c.name, "role": c.role, "phone": (mask_phone(c.phone) or "") if c.phone else ""}
        for c in contacts
    ]


# ---------------------------------------------------------------------- checking
def _text(fields: Mapping[str, Any], name: str, limit: int, *, required: bool = False) -> str:
    value = str(fields.get(name) or "").strip()
    if required and not value:
        raise FieldError(name, "is required")
    if len(value) > limit:
        raise FieldError(name, f"is longer than {limit} characters")
    return value


def _labelled(value: Any, kind: type[EnterpriseSize] | type[RiskLevel], name: str) -> Any:
    """An enum member from its value or either of its names (大型, large, 高风险, 高)."""
    text = str(value).strip().lower()
    for member in kind:
        if text in (member.value, member.zh.lower(), member.en.lower()) or (
            member.zh.endswith("风险") and text == member.zh.removesuffix("风险")
        ):
            return member
    allowed = " / ".join(f"{m.value} ({m.zh})" for m in kind)
    raise FieldError(name, f"{value!r} is not one of {allowed}")


def find_area(world: World, value: str, name: str = "area") -> str:
    """An area of the world by code or by its exact name (a grid's name in a sheet)."""
    text = value.strip()
    if not text:
        raise FieldError(name, "is required (所在网格)")
    if text in world.areas:
        return text
    named = [a.code for a in world.areas.values() if a.name == text]
    if len(named) == 1:
        return named[0]
    if named:
        raise FieldError(name, f"{text!r} names several areas ({', '.join(sorted(named))})")
    raise FieldError(name, f"no area {text!r} in the world file")


def find_staff(store: Store, world: World, value: str, area: str, name: str = "staff") -> str:
    """The 包联干部's user id from a username or user id: an active dispatcher or
    handler whose scope covers ``area`` (one cannot be responsible for an enterprise
    one may not see)."""
    text = value.strip()
    user = get_user(store, text) or next(
        (u for u in list_users(store) if text in (u.username, u.display_name)), None
    )
    if user is None or not user.active:
        raise FieldError(name, f"no active user {text!r}")
    if user.role not in STAFF_ROLES:
        raise FieldError(name, f"{user.username} is a {user.role.zh}, not street staff")
    if not scope_of(user, world).allows(area):
        raise FieldError(name, f"{user.username}'s areas do not take in {area}")
    return user.id


def _coordinate(value: Any, name: str, low: float, high: float) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise FieldError(name, f"{value!r} is not a number") from None
    if not low <= number <= high:
        raise FieldError(name, f"must be between {low} and {high}")
    return number


def _contacts(value: Any) -> tuple[Contact, ...]:
    if not isinstance(value, list):
        raise FieldError("contacts", "must be a list of {name, phone, role}")
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise FieldError(f"contacts[{i}]", "must be an object with name, phone, role")
        person = _text(item, "name", 50).strip()
        phone = _text(item, "phone", 40)
        if not person:
            raise FieldError(f"contacts[{i}].name", "is required")
        if phone and not re.fullmatch(r"[\d\s+()\-]{5,40}", phone):
            raise FieldError(f"contacts[{i}].phone", f"{phone!r} is not a phone number")
        out.append(Contact(person, phone, _text(item, "role", 50)))
    return tuple(out)


def _tags(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else re.split(r"[、,，;；\s]+", str(value or ""))
    tags = tuple(dict.fromkeys(str(v).strip() for v in items if str(v).strip()))
    if any(len(t) > 30 for t in tags) or len(tags) > 20:
        raise FieldError("tags", "at most 20 tags of at most 30 characters")
    return tags


def subject_for(world: World, credit_code: str, name: str) -> str | None:
    """The world file's enterprise subject this enterprise is: the one whose
    ``credit_code`` is the same, else the one of the same name (the ``enterprise.*``
    warnings key on it)."""
    subjects = [s for s in world.subjects.values() if "enterprise" in s.tags]
    for s in subjects:
        if str(s.extra.get("credit_code") or "").upper() == credit_code:
            return s.id
    named = [s.id for s in subjects if s.name == name]
    return named[0] if len(named) == 1 else None


def build(
    store: Store,
    world: World,
    fields: Mapping[str, Any],
    *,
    existing: Enterprise | None,
    now: datetime,
) -> Enterprise:
    """The enterprise ``fields`` describe (all of them for a new one; those given
    change an ``existing`` one), checked field by field: a bad value raises
    :class:`FieldError` naming it."""
    base = existing or Enterprise(
        id=f"QY-{secrets.token_hex(4).upper()}", credit_code="", name="", area=""
    )
    given = dict(fields)
    for name in ("credit_code", "name", "area"):
        if (existing is None or name in given) and not str(given.get(name) or "").strip():
            raise FieldError(name, "is required (cannot be empty)")
    code = (
        check_credit_code(str(given["credit_code"])) if "credit_code" in given else base.credit_code
    )
    other = db.by_credit_code(store, code)
    if other is not None and other.id != base.id:
        raise FieldError("credit_code", f"{code} is registered already ({other.name})")
    name = _text(given, "name", 200, required=True) if "name" in given else base.name
    area = find_area(world, str(given["area"])) if "area" in given else base.area
    staff = base.staff_id
    if "staff" in given:
        staff = find_staff(store, world, str(given["staff"]), area) if given["staff"] else None
    size = base.size
    if "size" in given:
        size = _labelled(given["size"], EnterpriseSize, "size") if given["size"] else None
    risk = _labelled(given["risk"], RiskLevel, "risk") if given.get("risk") else base.risk
    made = dataclasses.replace(
        base,
        credit_code=code,
        name=name,
        area=area,
        sector=_text(given, "sector", 100) if "sector" in given else base.sector,
        size=size,
        address=_text(given, "address", 300) if "address" in given else base.address,
        lat=_coordinate(given["lat"], "lat", -90, 90) if "lat" in given else base.lat,
        lon=_coordinate(given["lon"], "lon", -180, 180) if "lon" in given else base.lon,
        contacts=_contacts(given["contacts"]) if "contacts" in given else base.contacts,
        staff_id=staff,
        tags=_tags(given["tags"]) if "tags" in given else base.tags,
        risk=risk,
        created_at=base.created_at or now,
        updated_at=now,
    )
    if (made.lat is None) != (made.lon is None):
        raise FieldError("lat" if made.lat is None else "lon", "give both lat and lon, or neither")
    if made.staff_id is not None and made.area != base.area and "staff" not in given:
        # moved to an area its 包联干部 does not cover: say so rather than keep a
        # responsible person who could no longer see it
        staff_user = get_user(store, made.staff_id)
        if staff_user is not None and not scope_of(staff_user, world).allows(made.area):
            raise FieldError("staff", f"{staff_user.username}'s areas do not take in {made.area}")
    return dataclasses.replace(made, subject_id=subject_for(world, made.credit_code, made.name))


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Contact):
        return {"name": value.name, "phone": value.phone, "role": value.role}
    if isinstance(value, EnterpriseSize | RiskLevel):
        return value.value
    return value


def diff(before: Enterprise | None, after: Enterprise) -> dict[str, tuple[object, object]]:
    """The tracked fields that differ, each ``(before, after)`` as JSON values."""
    out: dict[str, tuple[object, object]] = {}
    for name in TRACKED:
        old = _plain(getattr(before, name)) if before is not None else None
        new = _plain(getattr(after, name))
        if old != new:
            out[name] = (old, new)
    return out


def save(
    store: Store,
    world: World,
    fields: Mapping[str, Any],
    *,
    actor: str,
    now: datetime,
    existing: Enterprise | None = None,
) -> tuple[Enterprise, Change | None]:
    """Create or change an enterprise and record who changed what; an update that
    changes nothing is not stored and has no change (``None``)."""
    made = build(store, world, fields, existing=existing, now=now)
    changed = diff(existing, made)
    if existing is not None and not changed:
        return existing, None
    change = Change(made.id, now, actor, changed)
    db.save_enterprise(store, made, change)
    return made, change


# ---------------------------------------------------------------------- the import
#: The sheet's columns (Chinese, as a district's 重点企业名录 names them) → our fields;
#: the first three are required.
COLUMNS: dict[str, str] = {
    "统一社会信用代码": "credit_code",
    "企业名称": "name",
    "所在网格": "area",
    "行业": "sector",
    "规模": "size",
    "地址": "address",
    "联系人": "contact_name",
    "联系电话": "contact_phone",
    "包联干部": "staff",
    "标签": "tags",
    "风险等级": "risk",
    "纬度": "lat",
    "经度": "lon",
}
REQUIRED = ("统一社会信用代码", "企业名称", "所在网格")


@dataclass(slots=True)
class ImportResult:
    """Every row accounted for: created, updated, unchanged, or skipped with the
    reason in ``problems`` (``file:row: column: reason``)."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    problems: list[Problem] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.rows} rows 行: {self.created} created 新增, {self.updated} updated 更新, "
            f"{self.unchanged} unchanged 未变, {self.skipped} skipped 跳过"
        )


def _row_fields(cells: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column, name in COLUMNS.items():
        skip = name in ("contact_name", "contact_phone")
        if column in cells and not skip and (cells[column] or column in REQUIRED):
            out[name] = cells[column]
    person, phone = cells.get("联系人", ""), cells.get("联系电话", "")
    if person or phone:
        out["contacts"] = [{"name": person or "联系人", "phone": phone}]
    return out


def import_file(store: Store, world: World, path: Path, *, now: datetime) -> ImportResult:
    """The sheet's rows into the registry, matched by credit code (a known code
    updates that enterprise, its changes recorded as ``import:<file>``). A bad row is
    skipped with its reason and the rest kept; a file without the required header
    raises :class:`ProblemsError` and nothing is read."""
    name = path.name
    result = ImportResult()
    header: dict[str, int] | None = None
    seen: dict[str, int] = {}
    for number, raw in grid_rows(path):
        cells = [c.strip() for c in raw]
        if header is None:
            names = [re.sub(r"\s+", "", c) for c in cells]
            if all(c in names for c in REQUIRED):
                header = {c: names.index(c) for c in COLUMNS if c in names}
            continue
        if not any(cells):
            continue
        result.rows += 1
        row = {c: cells[i] if i < len(cells) else "" for c, i in header.items()}
        try:
            code = check_credit_code(row["统一社会信用代码"], "统一社会信用代码")
            if code in seen:
                raise FieldError("统一社会信用代码", f"{code} is on row {seen[code]} already")
            seen[code] = number
            existing = db.by_credit_code(store, code)
            fields = _row_fields(row)
            _, change = save(
                store, world, fields, actor=f"import:{name}", now=now, existing=existing
            )
        except FieldError as exc:
            column = next((c for c, f in COLUMNS.items() if exc.field == f), exc.field)
            if exc.field.startswith("contacts"):
                column = "联系电话" if exc.field.endswith("phone") else "联系人"
            result.skipped += 1
            result.problems.append(Problem(column, f"{exc.reason}; row skipped", line=number))
            continue
        if existing is None:
            result.created += 1
        elif change is None:
            result.unchanged += 1
        else:
            result.updated += 1
    if header is None:
        raise ProblemsError(
            name, [Problem("header", f"no row names the columns {' / '.join(REQUIRED)}")]
        )
    return result

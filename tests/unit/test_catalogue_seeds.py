"""The catalogue true to the seeds (issue 20): every built-in scenario says where the
seeds name it (``seed: {ref, says}``) or that it is a cityeye addition, and every
citation is checked word for word against the seed lines it cites.

The seeds are the five yearbooks in ``shared/seeds/`` beside this clone; without them
the word-for-word checks skip and say so (as tests/unit/test_tasks.py does). The rest
(every scenario cited, the file:line errors of a bad ``seed:``, the framing that
``docs/catalogue.md`` is generated from) needs no seeds.

The framing is the seeds' own: v3.0 (003:831) sets four modules with 31 scenarios,
v1.0 (004:49) is the eight scenes of 小河街道, v2.0 (000:372-376) is 小河网驿's eight
enterprise warnings and the 社情民意 module. :func:`render_overview` writes it at the
head of the generated part of ``docs/catalogue.md``, with cityeye's own counts.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path

import pytest

from cityeye.domain import Module
from cityeye.domain.participation import TopicStep
from cityeye.scenarios import LoadedScenario, load_catalogue
from cityeye.scenarios.spec import ADDITION, Citation, load_scenarios

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"
PARTICIPATION_DOC = Path(__file__).resolve().parents[2] / "docs" / "participation.md"

#: v3.0: "分类设定城市管理、治安管理、应急管理、市场监管四个模块…累计场景31个".
V3_MODULES_SAY = Citation(
    ref="003:831", says="分类设定城市管理、治安管理、应急管理、市场监管四个模块"
)
V3_COUNT_SAYS = Citation(ref="003:831", says="累计场景31个")
V3_COUNT = 31
#: v3.0's four modules, in the seed's order.
V3_MODULES = (Module.CITY_MANAGEMENT, Module.PUBLIC_SECURITY, Module.EMERGENCY, Module.MARKET)
#: v1.0: 小河街道's eight new scenes, in the seed's order; a scenario implements one
#: when it cites 004:49 with the scene's name.
V1_SAYS = Citation(ref="004:49", says="八大新场景")
V1_SCENES = (
    "小区文明出入管理",
    "小区垃圾分类管理",
    "小区电梯安全",
    "保健品营销监管",
    "场所安全用电",
    "敏感场所管理",
    "独居老人服务",
    "孝心车位管理",
)
#: v2.0: "城市眼·云共治·小河网驿" warns of eight kinds of enterprise trouble and names two.
V2_SAYS = Citation(ref="000:372-376", says="实现对重点企业搬迁、经营情况异常等 8 种情况及时预警")
V2_PLATFORM = Citation(ref="000:372", says="“城市眼·云共治”2.0——“城市眼·云共治·小河网驿”平台")
V2_OPINION = Citation(ref="000:376", says="“城市眼·云共治”社情民意模块")
#: Where cityeye's deliberation comes from: the six steps are 大关街道's (百姓圆桌会),
#: the forum and its online platform 小河街道's (红茶议事会); docs/participation.md
#: says so, and that joining them is ours.
SIX_STEPS = Citation(ref="000:555", says="提出议题—广开言路—民主协商—拟订方案—居民表决—形成决议")
SIX_STEPS_FORUM = Citation(ref="000:555", says="运用百姓圆桌会居民自治平台")
SIX_STEPS_STREET = Citation(ref="000:551", says="【概况】大关街道位于拱墅区南部")
RED_TEA = Citation(ref="000:360", says="小河街道针对城市居民小区管理难")
RED_TEA_PLATFORM = Citation(ref="000:360", says="创新推出“红茶议事会”网上平台")
FRAMING = (V3_MODULES_SAY, V3_COUNT_SAYS, V1_SAYS, V2_SAYS, V2_PLATFORM, V2_OPINION)
SOURCES = (SIX_STEPS, SIX_STEPS_FORUM, SIX_STEPS_STREET, RED_TEA, RED_TEA_PLATFORM)


@functools.cache
def catalogue() -> tuple[LoadedScenario, ...]:
    return tuple(load_catalogue())


def citations(s: LoadedScenario) -> tuple[Citation, ...]:
    return s.config.citations


@functools.cache
def seed_lines(number: str) -> list[str]:
    """The seed file's lines as they are (only the line ends removed)."""
    (path,) = SEEDS.glob(f"{number}_*.txt")
    return path.read_text(encoding="utf-8").split("\n")


def cited_text(c: Citation, first: int | None = None, last: int | None = None) -> str:
    """The cited lines joined as they are: words broken over a line end (001 is
    typeset in narrow columns; 000:372 breaks 搬|迁 across blank lines) read whole."""
    a, b = c.lines
    return "".join(seed_lines(c.file)[(first or a) - 1 : last or b])


def need_seeds() -> None:
    if not SEEDS.is_dir():
        pytest.skip(f"the seeds are not beside this clone (looked in {SEEDS})")


# ------------------------------------------------------------------ every scenario cited
def test_every_builtin_scenario_says_where_the_seeds_name_it_or_that_it_is_ours() -> None:
    missing = [s.id for s in catalogue() if s.config.seed is None]
    assert not missing, (
        f'add `seed: {{ref: "NNN:LINE", says: …}}` (the seed\'s words) or `seed: addition` '
        f"after the name of: {', '.join(missing)}"
    )


def _all_citations() -> list[tuple[str, Citation]]:
    out = [(s.id, c) for s in catalogue() for c in citations(s)]
    return out + [("framing", c) for c in FRAMING] + [("sources", c) for c in SOURCES]


@pytest.mark.parametrize(
    ("sid", "citation"), _all_citations(), ids=lambda x: x if isinstance(x, str) else x.ref
)
def test_each_citation_says_what_its_seed_lines_say(sid: str, citation: Citation) -> None:
    need_seeds()
    a, b = citation.lines
    lines = seed_lines(citation.file)
    assert b <= len(lines), f"{sid}: {citation.file} has {len(lines)} lines, not {b}"
    assert citation.says in cited_text(citation), (
        f"{sid}: {citation.ref} does not say {citation.says!r}: {cited_text(citation)[:200]!r}"
    )
    # no wider than the words need: a range of the whole file would pass the check above
    if b > a:
        assert citation.says not in cited_text(citation, first=a + 1), f"{sid}: start later"
        assert citation.says not in cited_text(citation, last=b - 1), f"{sid}: end sooner"


def test_the_framing_citations_are_checked_like_the_scenarios() -> None:
    """Each of the seeds' framing words is one of the citations checked above, so the
    overview quotes the seeds only where they were read."""
    need_seeds()
    assert all(c.says in cited_text(c) for c in FRAMING)
    v1 = cited_text(V1_SAYS)
    assert "、".join(V1_SCENES) + "八大新场景" in v1  # all eight, in the seed's order
    assert "、".join(m.zh for m in V3_MODULES) in V3_MODULES_SAY.says
    assert f"累计场景{V3_COUNT}个" == V3_COUNT_SAYS.says


def test_v3s_four_modules_hold_at_least_the_seeds_31_scenarios() -> None:
    """The seeds count 31 in v3.0's four modules; the catalogue has no fewer."""
    assert sum(s.module in V3_MODULES for s in catalogue()) >= V3_COUNT


def test_the_six_steps_are_the_seeds_own_in_order_and_from_daguan() -> None:
    """TopicStep's six names are, in order, 百姓圆桌会's 六步议事法 word for word, and
    the section that names it is 大关街道's (its 【概况】 opens at SIX_STEPS_STREET, the
    next street's section only after 000:555)."""
    assert "—".join(step.zh for step in TopicStep) == SIX_STEPS.says
    need_seeds()
    lines = seed_lines("000")
    a, _ = SIX_STEPS_STREET.lines
    assert lines[a - 1].startswith("【概况】大关街道")
    between = lines[a : SIX_STEPS.lines[0] - 1]
    assert not any(line.startswith("【概况】") for line in between)


def test_the_docs_say_where_each_method_comes_from() -> None:
    text = PARTICIPATION_DOC.read_text(encoding="utf-8")
    for c in (SIX_STEPS_FORUM, SIX_STEPS, RED_TEA_PLATFORM):
        assert c.ref in text, f"docs/participation.md does not cite {c.ref}"
        assert c.says in text, f"docs/participation.md does not quote {c.says!r}"
    assert "百姓圆桌会" in text
    assert "大关街道" in text
    assert '红茶议事会按"六步法"' not in text  # the old claim: the six steps as 红茶议事会's


# ------------------------------------------------------------------ the seeds' framing
def v1_scenes(scenarios: Iterable[LoadedScenario]) -> dict[str, list[str]]:
    """v1.0's eight scenes → the scenario ids that cite the scene by name on 004:49."""
    out: dict[str, list[str]] = {scene: [] for scene in V1_SCENES}
    for s in scenarios:
        for c in citations(s):
            if c.ref == V1_SAYS.ref:
                assert c.says in out, f"{s.id}: 004:49 names no scene {c.says!r}"
                out[c.says].append(s.id)
    return out


def test_each_of_the_eight_v1_scenes_has_a_scenario() -> None:
    empty = [scene for scene, ids in v1_scenes(catalogue()).items() if not ids]
    assert not empty, f"v1.0 scenes with no scenario citing them: {empty}"


def test_the_enterprise_module_is_v2s_warnings_two_named_by_the_seed() -> None:
    """小河网驿 warns of 8 kinds and names two (搬迁, 经营情况异常): those two are cited,
    the rest of the module are labelled cityeye's, never the seed's."""
    mine = [s for s in catalogue() if s.module == Module.ENTERPRISE]
    cited = {c.says: s.id for s in mine for c in citations(s)}
    assert cited == {"重点企业搬迁": "enterprise.relocation", "经营情况异常": "enterprise.abnormal"}
    assert all(s.config.seed == ADDITION for s in mine if s.id not in cited.values())
    assert all(says in V2_SAYS.says for says in cited)


def test_citizen_reports_are_v2s_social_opinion_module() -> None:
    (report,) = [s for s in catalogue() if s.id == "citizen.report"]
    assert [c.says for c in citations(report)] == ["社情民意模块"]
    assert "社情民意模块" in V2_OPINION.says


def _cell(c: Citation) -> str:
    return f"{c.ref} “{c.says}”"


def seed_cell(s: LoadedScenario) -> str:
    """The docs' seed column: each citation as file:line and the seed's words."""
    seed = s.config.seed
    if seed is None:
        return "—"
    if seed == ADDITION:
        return "cityeye 新增 · cityeye addition"
    return "; ".join(_cell(c) for c in s.config.citations)


def _ids(ids: list[str]) -> str:
    return ", ".join(f"`{i}`" for i in ids) or "—"


def render_overview(scenarios: list[LoadedScenario]) -> list[str]:
    """The seeds' framing with cityeye's own counts, for docs/catalogue.md: what the
    seeds say is quoted with its line; what cityeye has is counted from the YAML."""
    v3 = {m: [s for s in scenarios if s.module == m] for m in V3_MODULES}
    n3 = sum(len(v) for v in v3.values())
    n3_cited = sum(1 for v in v3.values() for s in v if citations(s))
    short = V3_COUNT - n3
    counts_zh = "、".join(f"{m.zh} {len(v)}" for m, v in v3.items())
    counts_en = ", ".join(f"{m.en} {len(v)}" for m, v in v3.items())
    enterprise = [s for s in scenarios if s.module == Module.ENTERPRISE]
    named = {c.says: s.id for s in enterprise for c in citations(s)}
    ours = [s.id for s in enterprise if s.config.seed == ADDITION]
    livelihood = [s for s in scenarios if s.module == Module.LIVELIHOOD]
    return [
        "### 种子里的框架 · The seeds' framing",
        "",
        "各表“种子出处”一栏给出 `shared/seeds/` 里的文件编号与行号和该处原话："
        "原话说明场景看的是什么；触发条件与数值是 cityeye 的选择，除非原话本身给出。"
        "“cityeye 新增”指种子里没有提到这个场景。",
        "",
        "The seed column of each table gives the seed file's number and line(s) in "
        "`shared/seeds/` and the seed's own words there: they say *what* a scenario "
        "watches; its trigger and numbers are cityeye's unless those words give them. "
        "“cityeye addition”: the seeds do not name it. "
        "`tests/unit/test_catalogue_seeds.py` checks every quotation against its lines.",
        "",
        f"**3.0**（{V3_MODULES_SAY.ref}）：“{V3_MODULES_SAY.says}……{V3_COUNT_SAYS.says}”。"
        f"种子说 {V3_COUNT} 个，但没有列出它们的名称；cityeye 在这四个模块中现有 {n3} 个场景"
        f"（{counts_zh}）"
        + (f"，比种子少 {short} 个" if short > 0 else "")
        + f"；其中 {n3_cited} 个有种子出处。",
        "",
        f"v3.0 ({V3_MODULES_SAY.ref}) sets four modules and counts {V3_COUNT} scenarios "
        f"(“{V3_COUNT_SAYS.says}”) without naming them. cityeye has {n3} in these four "
        f"modules ({counts_en})"
        + (f", {short} fewer than the seed's" if short > 0 else "")
        + f"; {n3_cited} of them are named by a seed.",
        "",
        f"**1.0**（{V1_SAYS.ref}）：小河街道的“{V1_SAYS.says}”（“1.0”是我们对 2.0 之前这一批的"
        "称呼），每个场景由哪些 cityeye 场景实现：",
        "",
        f"v1.0 ({V1_SAYS.ref}): 小河街道's eight scenes (“1.0” is our name for what came "
        "before 2.0) and the cityeye scenarios that implement each:",
        "",
        "| 种子原话 the seed's scene | 场景 scenarios |",
        "| --- | --- |",
        *(f"| {scene} | {_ids(ids)} |" for scene, ids in v1_scenes(scenarios).items()),
        "",
        f"**2.0**（{V2_SAYS.ref}）：{V2_PLATFORM.says}，“{V2_SAYS.says}”。种子只点名其中两种："
        + "、".join(f"{says} → `{sid}`" for says, sid in named.items())
        + f"；企业服务模块的另外 {len(ours)} 个（{_ids(ours)}）是 cityeye 对其余几种的补充。",
        "",
        f"v2.0 ({V2_SAYS.ref}), 小河网驿: warnings of eight kinds of enterprise trouble, of "
        f"which the seed names two ({', '.join(f'`{sid}`' for sid in named.values())}); "
        f"the other {len(ours)} in the enterprise module are cityeye's guesses at the rest.",
        "",
        f"**社情民意**（{V2_OPINION.ref}，{V2_OPINION.says}）：居民随手拍与热线 "
        "`citizen.report`，以及意见建议与议事（[participation.md](participation.md)）。"
        f"民生服务（{len(livelihood)} 个）与企业服务（{len(enterprise)} 个）两个模块是 "
        "cityeye 的分组，不在种子 3.0 的四个模块里；其场景来自 1.0、2.0（见上）或为 cityeye 新增。",
        "",
        f"The 社情民意 module ({V2_OPINION.ref}): residents' and hotline reports "
        "(`citizen.report`) and suggestions and deliberation "
        "([participation.md](participation.md)). The livelihood "
        f"({len(livelihood)}) and enterprise ({len(enterprise)}) modules are cityeye's "
        "grouping, not among v3.0's four: their scenarios come from v1.0 and v2.0 (above) "
        "or are cityeye's.",
    ]


# ------------------------------------------------------------------ the seed: field itself
def _load(tmp_path: Path, seed: str) -> list[str]:
    path = tmp_path / "s.yaml"
    path.write_text(
        "module: market\n"
        "scenarios:\n"
        "  - id: market.test\n"
        "    name: {zh: 测试, en: Test}\n"
        f"    seed: {seed}\n"
        "    reads: [report.hotline]\n"
        "    key: event\n"
        "    trigger: {type: threshold}\n"
        "    severity: low\n"
        "    resolve: {type: case}\n"
        "    route: government\n",
        encoding="utf-8",
    )
    result = load_scenarios([path])
    return [line.removeprefix(f"{path}:") for line in result.render_problems()]


@pytest.mark.parametrize(
    ("seed", "problem"),
    [
        ("addition", None),
        ('{ref: "004:49", says: 小区电梯安全}', None),
        ('[{ref: "004:49", says: 小区电梯安全}, {ref: "000:120", says: 阻止电动车上楼}]', None),
        ('{ref: "000:372-376", says: 重点企业搬迁}', None),
        ("ours", "must be 'addition', or {ref, says}"),
        ("[]", "must be 'addition', or {ref, says}"),
        ('{ref: "4:49", says: 小区电梯安全}', "ref: must be a seed file's number and line(s)"),
        ('{ref: "004:49-12", says: 小区电梯安全}', "ref: lines must count up from 1"),
        ('{ref: "004:0", says: 小区电梯安全}', "ref: lines must count up from 1"),
        ('{ref: "004:49"}', "says: Field required"),
        ('{ref: "004:49", says: 小区电梯安全, line: 3}', "line: Extra inputs are not permitted"),
        ('[{ref: "004:49", says: 小区电梯安全}, {ref: "004"}]', "[1] ref: must be a seed"),
    ],
)
def test_a_bad_seed_is_named_with_its_file_line_and_field(
    tmp_path: Path, seed: str, problem: str | None
) -> None:
    problems = _load(tmp_path, seed)
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1
        assert problems[0].startswith("5: scenarios[0].seed: "), problems
        assert problem in problems[0]

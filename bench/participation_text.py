"""Benchmark of residents'-suggestion classification and grouping (cityeye.participation.text).

    .venv/bin/python bench/participation_text.py [--n 2000] [--areas 20] [--seed 2026]

A street office receives ~2,000 suggestions a month; the platform classifies each and
folds near-duplicates into groups as they arrive (``Grouper.add``). This script builds a
simulated month — ``--n`` suggestions over ``--areas`` communities, each community with
its own hot issues drawn Zipf-like from the shipped training texts, reworded with an
estate and building prefix, a polite or impatient tail and a dropped clause now and
then — and times:

1. the first use (jieba's dictionary load and training the classifier), once;
2. ``classify`` alone over the month;
3. ``Grouper.add`` (segmentation + classification + grouping) over the month, in order;

then prints suggestions per second, the number of groups and the largest ones, and
how well the groups match the simulated issues (purity: the share of each group that is
its main issue; completeness: the share of each issue in its largest group). The
target is the whole month in well under 2 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import platform
import random
import time
from collections import Counter

from cityeye.participation import text as ptext

ESTATES = ["和睦新村", "大关西苑", "德胜新村", "朝晖五区", "左家新村", "瓜山新苑", "和平家园"]
TAILS = ["", "", "，希望尽快处理", "，谢谢", "，已经反映过好几次了", "！！", "，麻烦社区管一管"]


def simulate(n: int, areas: int, seed: int) -> list[tuple[str, str, str, str]]:
    """``n`` (id, text, area, issue) suggestions, deterministic for a seed; ``issue`` is
    the training text it was reworded from: the group it should end up in."""
    rng = random.Random(seed)
    bases = [text for _, text in ptext.training_set()]
    hot: dict[str, list[str]] = {}
    for a in range(areas):
        hot[f"社区{a:02d}"] = rng.sample(bases, 25)
    weights = [1.0 / (rank + 1) for rank in range(25)]  # Zipf: a few issues dominate
    out = []
    for i in range(n):
        area = f"社区{rng.randrange(areas):02d}"
        base = rng.choices(hot[area], weights)[0]
        clauses = base.split("，")
        if len(clauses) > 2 and rng.random() < 0.3:
            clauses.pop(rng.randrange(1, len(clauses)))
        prefix = ""
        if rng.random() < 0.5:
            prefix = f"{rng.choice(ESTATES)}{rng.randint(1, 30)}幢，"
        text = prefix + "，".join(clauses) + rng.choice(TAILS)
        out.append((f"s{i:05d}", text, area, base))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--areas", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--reps", type=int, default=3, help="timed runs; the best is shown")
    args = parser.parse_args()

    t0 = time.perf_counter()
    ptext.classify("楼下停车位太少")  # first use: jieba dictionary + training
    first_use = time.perf_counter() - t0
    month = simulate(args.n, args.areas, args.seed)

    best_classify = best_group = float("inf")
    grouper = ptext.Grouper()
    for _ in range(args.reps):
        t0 = time.perf_counter()
        for _, text, _, _ in month:
            ptext.classify(text)
        best_classify = min(best_classify, time.perf_counter() - t0)
        grouper = ptext.Grouper()
        t0 = time.perf_counter()
        for sid, text, area, _ in month:
            grouper.add(sid, text, area)
        best_group = min(best_group, time.perf_counter() - t0)

    groups = grouper.summary()
    issue_of = {sid: (area, issue) for sid, _, area, issue in month}
    # purity: share of a group's members that are its majority issue; completeness: share
    # of an issue's suggestions that are in its largest group (both over suggestions)
    pure = sum(Counter(issue_of[m] for m in g["members"]).most_common(1)[0][1] for g in groups)
    by_issue: dict[tuple[str, str], Counter[str]] = {}
    for sid, gid in grouper.assignment.items():
        by_issue.setdefault(issue_of[sid], Counter())[gid] += 1
    complete = sum(c.most_common(1)[0][1] for c in by_issue.values())
    print(
        f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}"
    )
    print(f"suggestions: {len(month)} over {args.areas} areas (seed {args.seed})")
    print(f"first use (jieba dictionary + training): {first_use:.2f} s")
    print(
        f"classify only:           {best_classify:.3f} s  "
        f"{len(month) / best_classify:,.0f} suggestions/s"
    )
    print(
        f"Grouper.add (all steps): {best_group:.3f} s  "
        f"{len(month) / best_group:,.0f} suggestions/s  (best of {args.reps})"
    )
    multi = [g for g in groups if g["count"] > 1]
    print(
        f"groups: {len(groups)}, of which {len(multi)} with 2+ members holding "
        f"{sum(g['count'] for g in multi)} suggestions"
    )
    print(
        f"purity {pure / len(month):.3f}, completeness {complete / len(month):.3f} "
        f"({len(by_issue)} simulated issues)"
    )
    for g in groups[:5]:
        print(f"  {g['count']:>4}  {g['area']}  {g['category']:<12} {g['label']}")


if __name__ == "__main__":
    main()

"""Residents' suggestions: segmentation, classification (measured on an independent
evaluation set) and grouping of near-duplicates (cityeye.participation.text)."""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from pathlib import Path

import pytest

from cityeye.participation.text import (
    CATEGORY_CODES,
    OTHER,
    SUGGESTION_CATEGORIES,
    Grouper,
    NaiveBayes,
    classify,
    read_labelled,
    tokenize,
    training_set,
)

EVAL_FILE = Path(__file__).resolve().parents[1] / "fixtures" / "suggestions_eval.tsv"

# Floors a little under what was measured (docs/participation.md: accuracy 0.853,
# macro precision 0.872 on 156 suggestions): a regression of a few suggestions fails.
MIN_MACRO_PRECISION = 0.80
MIN_ACCURACY = 0.78

# --------------------------------------------------------------------------- segmentation


def test_domain_words_stay_whole() -> None:
    tokens = tokenize("楼下停车位太少，晚上车都停到消防通道上了，电瓶车还在楼道里充电")
    assert {"停车位", "消防通道", "电瓶车", "楼道"} <= set(tokens)
    assert "消防" not in tokens
    assert "通道" not in tokens
    more = tokenize("老旧小区加装电梯，业委会说物业费和垃圾分类的事一起开会商量")
    assert {"老旧小区", "加装电梯", "业委会", "物业费", "垃圾分类"} <= set(more)


def test_stopwords_punctuation_and_numbers_dropped() -> None:
    tokens = tokenize("希望尽快解决！！我们的小区里，晚上 10 点以后，真的很吵。")
    for dropped in ("希望", "我们", "的", "小区", "晚上", "真的", "很", "！", "，", "。", "10"):
        assert dropped not in tokens
    assert "吵" in tokens  # a meaningful single character stays
    assert "解决" in tokens


def test_places_become_one_token() -> None:
    tokens = tokenize("和睦新村３幢门口的路灯坏了")  # full-width digit from a phone keyboard
    assert tokens[:2] == ["和睦新村", "3幢"]
    assert "路灯" in tokens
    assert "坏" in tokens


# --------------------------------------------------------------------------- classifier


def test_naive_bayes_laplace_arithmetic() -> None:
    nb = NaiveBayes(alpha=1.0).fit([("a", ["x", "x", "z"]), ("b", ["y"])])
    # |V| = 3; P(x|a) = (2+1)/(3+3) = 1/2, P(x|b) = (0+1)/(1+3) = 1/4; equal priors
    assert nb.log_likelihood["a"]["x"] == pytest.approx(math.log(1 / 2))
    assert nb.log_likelihood["b"]["x"] == pytest.approx(math.log(1 / 4))
    post = dict(nb.posteriors(["x"]))
    assert post["a"] == pytest.approx(2 / 3)
    assert post["b"] == pytest.approx(1 / 3)
    assert dict(nb.posteriors(["never-seen"]))["a"] == pytest.approx(0.5)
    assert [t for t, _ in nb.evidence(["x", "y", "x"], "a")] == ["x"]


def test_training_set_is_shipped_and_balanced() -> None:
    counts = Counter(label for label, _ in training_set())
    assert set(counts) == set(CATEGORY_CODES)
    assert min(counts.values()) >= 25
    assert [c.code for c in SUGGESTION_CATEGORIES][-1] == OTHER


def test_read_labelled_rejects_unknown_category() -> None:
    with pytest.raises(ValueError, match="line 2: unknown category 'parkng'"):
        read_labelled(["# comment", "parkng\t车位太少"])
    with pytest.raises(ValueError, match="line 1"):
        read_labelled(["parking 车位太少"])


def test_classify_clear_cases_and_fallback() -> None:
    parked = classify("地下车库车位太贵，晚上车只能停在消防通道上")
    assert parked.category == "parking"
    assert parked.confidence > 0.5
    assert parked.top_terms
    assert all(not t.startswith(("~", "^")) for t in parked.top_terms)  # words, not features
    assert classify("楼上装修电钻从早响到晚，周末也不停").category == "noise"
    assert classify("加装电梯一楼住户不同意，怎么办").category == "renovation"
    nothing = classify("！！！。。。")
    assert nothing.category == OTHER
    assert nothing.confidence == 0.0
    unsure = classify("车位太少", min_confidence=1.01)  # nothing is that sure
    assert unsure.category == OTHER
    assert unsure.top_terms  # the evidence is kept for a person to read


def test_precision_on_independent_eval_set() -> None:
    pairs = read_labelled(EVAL_FILE.read_text(encoding="utf-8").splitlines())
    assert len(pairs) >= 120
    train_texts = {text for _, text in training_set()}
    assert not train_texts & {text for _, text in pairs}, "eval must not repeat training"
    predicted = [(gold, classify(text).category) for gold, text in pairs]
    rows = []
    for code in CATEGORY_CODES:
        tp = sum(1 for g, p in predicted if g == p == code)
        n_pred = sum(1 for _, p in predicted if p == code)
        n_gold = sum(1 for g, _ in predicted if g == code)
        rows.append((code, tp / n_pred if n_pred else 0.0, tp / n_gold if n_gold else 0.0, n_gold))
    accuracy = sum(1 for g, p in predicted if g == p) / len(predicted)
    macro_p = sum(r[1] for r in rows) / len(rows)
    macro_r = sum(r[2] for r in rows) / len(rows)
    print(f"\n{'category':<12} {'precision':>9} {'recall':>7} {'n':>4}")
    for code, p, r, n in rows:
        print(f"{code:<12} {p:>9.2f} {r:>7.2f} {n:>4}")
    print(f"{'macro':<12} {macro_p:>9.3f} {macro_r:>7.3f} {len(pairs):>4}")
    print(f"accuracy {accuracy:.3f}")
    assert macro_p >= MIN_MACRO_PRECISION
    assert accuracy >= MIN_ACCURACY


# --------------------------------------------------------------------------- grouping

# 30 residents about one car park (和睦新村 east gate), worded each their own way
CAR_PARK = [
    "和睦新村东门停车场晚上停满了，好多车只能停到消防通道上",
    "东门停车场车位太少，晚上回来根本停不进去，车都堵在消防通道",
    "和睦新村东门那个停车场每天晚上都爆满，消防通道上全是车",
    "晚上东门停车场没有空车位，大家把车停在消防通道里，太危险了",
    "东门停车场车位不够，消防通道被私家车占满，希望增加车位",
    "我们小区东门停车场停车难，晚上车子只能停到消防通道",
    "和睦新村停车位太少，东门停车场晚上一个空位都没有",
    "东门停车场晚上车满为患，消防通道天天被占",
    "停车场车位严重不足，东门消防通道晚上停满了车",
    "和睦新村东门停车场能不能扩建一下，晚上车位太紧张了",
    "东门停车场的车位根本不够用，车都停到消防通道口了",
    "晚上十点以后东门停车场就没有车位了，消防通道被堵",
    "东门停车场车位太少，停车难的问题一直没有解决",
    "东门停车场晚上停满车，消防通道停了一排车，救护车进不来",
    "和睦新村东门停车场太小，车位紧张，晚上只能乱停",
    "希望解决东门停车场停车位不足的问题，消防通道都被占了",
    "东门停车场每天晚上都停不下，车停在消防通道上很不安全",
    "和睦新村的停车场车位太少了，东门那边消防通道晚上停满车",
    "东门的停车场晚上没位置，车主们都把车停在消防通道",
    "东门停车场车位紧张，建议增加停车位，别让车占消防通道",
    "小区东门停车场晚上车位全满，消防通道成了停车场",
    "东门停车场停车位不够，晚上下班回来找不到车位",
    "和睦新村东门停车场停车太难了，消防通道也停满了",
    "东门停车场晚上车位一位难求，消防通道堵死了",
    "东门停车场车位少车多，晚上消防通道都是乱停的车",
    "请增加和睦新村东门停车场的车位，晚上消防通道被车堵住",
    "东门停车场晚上停不进去，只好把车停在消防通道边上",
    "东门停车场车位严重不够，晚上车都停到了消防通道",
    "和睦新村东门停车场晚上满了，车子停在消防通道上没人管",
    "东门停车场的停车位太少，消防通道晚上被占用",
]
# 20 about one broken street lamp in the same estate
LAMP = [
    "和睦新村3幢门口的路灯坏了，晚上一片漆黑",
    "3幢旁边的路灯不亮好几天了，走路看不见",
    "和睦新村3幢路灯坏了，老人晚上出门容易摔",
    "3幢楼前的路灯一直不亮，希望尽快修一下",
    "路灯坏了，3幢门口晚上黑乎乎的，很不安全",
    "和睦新村3幢那盏路灯坏掉一个星期了",
    "3幢门口路灯不亮，晚上回家要打手电筒",
    "3幢前面路灯坏了没人修，晚上路上一片黑",
    "和睦新村3幢的路灯又坏了，请尽快维修",
    "3幢路灯不亮，晚上孩子放学回来很害怕",
    "3幢门口的路灯闪了几天现在彻底不亮了",
    "路灯坏了好久了，就在和睦新村3幢门口",
    "3幢那里的路灯晚上不亮，路面黑漆漆的",
    "和睦新村3幢旁的路灯坏了，希望物业或者社区来修",
    "3幢门口路灯损坏，夜间照明不足",
    "3幢楼下的路灯坏了，晚上倒垃圾都看不清",
    "和睦新村3幢路灯不亮，走夜路很危险",
    "3幢路灯坏了一个多礼拜，一直没人来修",
    "3幢门前的路灯坏了，晚上黑得什么都看不到",
    "和睦新村3幢门口那盏路灯不亮了，麻烦修理",
]
# 10 unrelated, half of them naming the same estate or building on purpose
OTHERS = [
    "和睦新村3幢楼上装修每天电钻声太吵了",
    "和睦新村东门垃圾分类点的垃圾桶满了没人清理",
    "希望社区多组织老年人活动",
    "加装电梯低层住户不同意，怎么协调",
    "和睦新村物业费涨价了但是服务没有改善",
    "3幢门口的树太高挡住阳光，晚上也黑，需要修剪",
    "公交站离小区太远了，希望增设站点",
    "广场舞音乐声音太大，晚上吵得睡不着",
    "和睦新村3幢楼道里有人给电瓶车充电，很危险",
    "独居老人希望有人上门看看",
]


def _stream(seed: int = 2026) -> list[tuple[str, str]]:
    """(id, text), interleaved in a fixed pseudo-random order: ids say what they are."""
    items = (
        [(f"car-{i}", t) for i, t in enumerate(CAR_PARK)]
        + [(f"lamp-{i}", t) for i, t in enumerate(LAMP)]
        + [(f"other-{i}", t) for i, t in enumerate(OTHERS)]
    )
    random.Random(seed).shuffle(items)
    return items


def _kinds(members: list[str]) -> Counter[str]:
    return Counter(m.split("-")[0] for m in members)


@pytest.mark.parametrize("seed", [2026, 7, 11])
def test_near_duplicates_form_one_group(seed: int) -> None:
    grouper = Grouper()
    for sid, text in _stream(seed):
        grouper.add(sid, text, "和睦社区")
    groups = grouper.summary()
    top = groups[0]
    assert _kinds(top["members"])["car"] >= 27
    assert _kinds(top["members"])["lamp"] == 0
    assert top["category"] == "parking"
    assert {"停车场", "消防通道"} <= set(top["top_terms"])
    for g in groups:  # no group mixes the car park with the lamp
        kinds = _kinds(g["members"])
        assert not (kinds["car"] and kinds["lamp"]), g
    lamp_groups = sorted((_kinds(g["members"])["lamp"] for g in groups), reverse=True)
    assert lamp_groups[0] >= 8  # measured 8-20 over orders: lamp wording varies more
    assert "路灯" in next(g for g in groups if _kinds(g["members"])["lamp"])["top_terms"]
    # unrelated suggestions do not join the two big groups
    lamp_top = next(g for g in groups if _kinds(g["members"])["lamp"] == lamp_groups[0])
    assert _kinds(top["members"])["other"] == 0
    assert _kinds(lamp_top["members"])["other"] == 0
    assert sum(g["count"] for g in groups) == len(CAR_PARK) + len(LAMP) + len(OTHERS)


def test_groups_never_cross_areas() -> None:
    grouper = Grouper()
    for i, text in enumerate(CAR_PARK[:10]):
        grouper.add(f"a-{i}", text, "和睦社区")
        grouper.add(f"b-{i}", text, "大关社区")  # the very same words, another estate
    for g in grouper.summary():
        assert {m.split("-")[0] for m in g["members"]} in ({"a"}, {"b"})
    assert grouper.assignment["a-0"] != grouper.assignment["b-0"]
    assert grouper.groups[grouper.assignment["a-0"]].count >= 9


def test_deterministic_and_redelivery_is_not_counted() -> None:
    first, second = Grouper(), Grouper()
    for sid, text in _stream():
        first.add(sid, text, "和睦社区")
        second.add(sid, text, "和睦社区")
    assert first.summary() == second.summary()
    assert first.snapshot() == second.snapshot()
    again = first.add("car-0", "完全不同的内容也不会改变已分好的组", "和睦社区")
    assert again == first.assignment["car-0"]
    assert first.summary() == second.summary()


def test_snapshot_restore_round_trip_gives_same_future() -> None:
    stream = _stream()
    half = len(stream) // 2
    live = Grouper()
    for sid, text in stream[:half]:
        live.add(sid, text, "和睦社区")
    state = json.loads(json.dumps(live.snapshot(), ensure_ascii=False))
    restored = Grouper.restore(state)
    assert restored.snapshot() == live.snapshot()
    for sid, text in stream[half:]:
        assert restored.add(sid, text, "和睦社区") == live.add(sid, text, "和睦社区")
    assert restored.summary() == live.summary()
    with pytest.raises(ValueError, match="version"):
        Grouper.restore({**state, "version": 99})

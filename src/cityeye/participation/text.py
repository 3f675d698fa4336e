"""Reading residents' suggestions: segmentation, categories, and grouping of near-duplicates.

Everything here runs offline and in-process: the segmenter is :mod:`jieba` with the
dictionary it ships, the classifier is a multinomial Naive Bayes trained at first use
from a labelled file shipped with the package (``data/suggestions_train.tsv``), and the
grouping is TF-IDF with cosine similarity. No model is downloaded, no service is called,
and the same input gives the same output on every machine — a street office has to be
able to explain why a suggestion landed where it did.

Why these methods and not a neural model: a street office gets ~2,000 suggestions a
month, the categories are few and stable, and the words that decide them (停车位,
消防通道, 加装电梯) are concrete. Naive Bayes on words is small, fast, trainable from a
few hundred examples that a community worker can read and correct, and its evidence is
the words themselves (:attr:`Classified.top_terms`), which is what the desk shows.

Grouping is incremental ("leader" clustering): each new suggestion joins the most similar
existing group *of the same area* when the similarity reaches a threshold, else it starts
a group. It never looks back, so a suggestion's group never changes after it is assigned
— the desk can link to a group while more suggestions arrive — and the whole state is a
plain JSON-able dict (:meth:`Grouper.snapshot` / :meth:`Grouper.restore`).
"""

from __future__ import annotations

import logging
import math
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import jieba

from cityeye.domain.participation import SUGGESTION_CATEGORIES, Category

# --------------------------------------------------------------------------- categories


CATEGORY_CODES: tuple[str, ...] = tuple(c.code for c in SUGGESTION_CATEGORIES)
CATEGORIES_BY_CODE: Mapping[str, Category] = {c.code: c for c in SUGGESTION_CATEGORIES}
OTHER = "other"

# --------------------------------------------------------------------------- segmentation

_DOMAIN_TEXT = """
消防通道 电瓶车 电动车 充电桩 飞线充电 垃圾分类 垃圾桶 垃圾房 业委会 业主大会
物业费 物业公司 维修基金 老旧小区 加装电梯 停车位 停车场 停车难 车位 地下车库
僵尸车 共享单车 非机动车 楼道 化粪池 污水井 窨井盖 下水道 路灯 健身器材 红绿灯
斑马线 人行道 公交站 公交车 地铁站 噪音 广场舞 装修 养老 助餐 老年食堂
居家养老 独居老人 适老化 外立面 雨污分流 屋顶漏水 高空抛物 群租房 燃气 绿化带
行道树 网格员 志愿者 文化家园 邻里中心 便民服务 口袋公园 晾衣架 监控探头 门禁
"""
DOMAIN_WORDS: tuple[str, ...] = tuple(_DOMAIN_TEXT.split())
"""Words jieba must keep whole: the nouns residents and the desk use for their problems.
Without them jieba cuts 消防通道 into 消防/通道 and 加装电梯 into 加装/电梯, and a group
label reads like noise."""

_STOPWORDS_TEXT = """
    的 了 在 是 我 我们 你 你们 他 他们 她 它 这 那 这个 那个 这些 那些 这里 那里 这边 那边
    都 也 就 还 又 很 太 非常 特别 比较 十分 真的 实在 一些 一下 有点 有些 一点 什么 怎么
    怎么办 为什么 如何 能不能 可不可以 可以 能否 是否 希望 建议 请 请问 麻烦 谢谢 感谢 一直
    已经 现在 目前 每天 经常 总是 老是 好像 而且 但是 可是 不过 因为 所以 如果 然后 还是
    或者 和 跟 与 及 以及 对 把 被 让 给 从 到 向 往 吗 吧 呢 啊 呀 哦 嘛 啦 哈 着 过 得 地
    之 其 该 此 有 没有 没 不 要 会 能 去 来 说 看 做 弄 搞 一个 一 两 几 多 少 大 小 个 些
    等 等等 自己 大家 相关 有关 部门 问题 情况 反映 反应 一下子 尽快 及时 能够 需要 应该 必须
    好 很多 许多 不少 上 下 里 中 内 外 前 后 时 时候 之后 以后 以前 左右 附近 旁边 边上
    由于 为了 关于 对于 就是 还有 而 并 又是 都是 也是 不是 没什么 其实 简直 根本 总 再
    居民 业主 小区 我家 家里 我们家 楼上 楼下 号楼 幢 单元 室 号 年 月 日 天 今天 昨天 最近 晚上
"""
STOPWORDS: frozenset[str] = frozenset(_STOPWORDS_TEXT.split())
"""Function words, politeness (希望, 建议, 麻烦) and words every suggestion has (居民,
小区, 最近). They carry no category and, worse for grouping, make unrelated suggestions
look alike. Kept small on purpose: a word here is invisible to both classifier and
grouper. 晚上 and 楼下 are here because nearly every complaint has one, and they glue
unrelated complaints of one estate together."""

_SINGLES_TEXT = (
    "车 灯 树 狗 猫 鼠 蚊 蝇 臭 吵 脏 堵 水 电 气 路 桥 墙 井 草 花 饭 药 病 摊 桶 坑 漏 锁 梯 "
    "烟 火 闹 吠 菜 鸽 虫 雨 晒 暗 滑 挤 乱 偷 贵 坏 亮 黑 修 响 堆"
)
MEANINGFUL_SINGLES: frozenset[str] = frozenset(_SINGLES_TEXT.split())
"""Single characters that name a thing or a complaint on their own (车, 灯, 臭, 吵).
Other single characters are mostly grammar once jieba has cut the text."""

_TOKEN_OK = re.compile(r"^[\w\u4e00-\u9fff]+$")
_NUMBER = re.compile(r"^\d+$")
ESTATE_SUFFIXES: frozenset[str] = frozenset(
    {"新村", "花园", "家园", "公寓", "大厦", "苑", "西苑", "东苑", "南苑", "北苑", "新苑"}
)
"""jieba cuts 和睦新村 into 和睦/新村; a name followed by one of these is joined back into
one token, so an estate's name counts once, not twice, in a suggestion's vector."""
BUILDING_UNITS: frozenset[str] = frozenset({"幢", "栋", "号楼", "单元", "弄", "号"})
"""A number followed by one of these becomes one token (``3幢``, ``12号楼``): the building
is what tells one estate's broken lamp from another's, so the grouper must see it."""
_DIGITS = re.compile(r"^[\d.]+[a-z]?$")

_jieba_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None


def _segmenter() -> jieba.Tokenizer:
    """The shared jieba tokenizer, made once on first use (~0.7 s, dictionary load).

    A private :class:`jieba.Tokenizer` rather than jieba's global one, so our user words
    do not change segmentation for other code in the process. Double-checked under a lock
    so concurrent first calls load the dictionary once.
    """
    global _tokenizer
    tk = _tokenizer
    if tk is not None:
        return tk
    with _jieba_lock:
        if _tokenizer is None:
            jieba.setLogLevel(logging.WARNING)
            made = jieba.Tokenizer()
            made.initialize()
            for word in DOMAIN_WORDS:
                # a high frequency makes the word win over the split jieba would prefer
                made.add_word(word, freq=200_000)
            _tokenizer = made
        return _tokenizer


_PLACE = re.compile(r"^\d+(?:" + "|".join(sorted(BUILDING_UNITS, key=len, reverse=True)) + ")$")


def is_place(token: str) -> bool:
    """Whether :func:`tokenize` made ``token`` as a building number or an estate name."""
    return bool(_PLACE.match(token)) or (
        len(token) > 2 and any(token.endswith(sfx) for sfx in ESTATE_SUFFIXES)
    )


def tokenize(text: str) -> list[str]:
    """The content words of ``text``, in order: jieba's words without punctuation,
    stopwords, bare numbers and single characters outside :data:`MEANINGFUL_SINGLES`;
    a building number stays as one token (``3幢``, see :data:`BUILDING_UNITS`).

    Text is NFKC-normalised first (full-width Latin and digits from phone keyboards
    become ASCII) and Latin is lower-cased.
    """
    norm = unicodedata.normalize("NFKC", text).lower()
    words = [w.strip() for w in _segmenter().lcut(norm)]
    out: list[str] = []
    for i, word in enumerate(words):
        if _NUMBER.match(word) and i + 1 < len(words) and words[i + 1] in BUILDING_UNITS:
            out.append(word + words[i + 1])
            continue
        if word in ESTATE_SUFFIXES and out and out[-1] == words[i - 1] and len(out[-1]) >= 2:
            out[-1] += word
            continue
        if not word or word in STOPWORDS or not _TOKEN_OK.match(word) or _DIGITS.match(word):
            continue
        if len(word) == 1 and word not in MEANINGFUL_SINGLES:
            continue
        out.append(word)
    return out


# --------------------------------------------------------------------------- classifier


def features(tokens: Sequence[str]) -> list[str]:
    """What the classifier counts: the words, plus the characters (``^停``) and the
    character bigrams (``~停车``) of the words run together.

    Words alone generalise poorly from a few hundred examples: residents write 停车区,
    停车泊位, 没处停 for what the training set calls 停车位, and jieba cuts new phrasings
    in new places. The characters and bigrams carry the shared morphemes (停车, 垃圾, 电梯)
    whatever the cut. Chosen by 5-fold cross-validation on the training set (accuracy
    0.56 with words only, 0.68 with words + bigrams + characters; docs/participation.md).
    """
    joined = "".join(tokens)
    out = list(tokens)
    out.extend("~" + joined[i : i + 2] for i in range(len(joined) - 1))
    out.extend("^" + ch for ch in joined)
    return out


class NaiveBayes:
    """Multinomial Naive Bayes with Laplace (add-``alpha``) smoothing, in log space.

    ``P(c | words) ∝ P(c) · Π P(w | c)``, with ``P(w | c) = (n(w, c) + α) / (n(c) + α·|V|)``.
    Words never seen in training are ignored (they say nothing about any class). Log
    probabilities keep long texts from underflowing.
    """

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = alpha
        self.classes: tuple[str, ...] = ()
        self.log_prior: dict[str, float] = {}
        self.log_likelihood: dict[str, dict[str, float]] = {}
        self.vocabulary: frozenset[str] = frozenset()

    def fit(self, samples: Iterable[tuple[str, Sequence[str]]]) -> NaiveBayes:
        """Train on ``(class, tokens)`` pairs; returns ``self``."""
        word_counts: dict[str, Counter[str]] = {}
        doc_counts: Counter[str] = Counter()
        for label, tokens in samples:
            doc_counts[label] += 1
            word_counts.setdefault(label, Counter()).update(tokens)
        if not doc_counts:
            raise ValueError("no training samples")
        vocab = frozenset(w for counts in word_counts.values() for w in counts)
        n_docs = sum(doc_counts.values())
        self.classes = tuple(sorted(doc_counts))
        self.vocabulary = vocab
        self.log_prior = {c: math.log(doc_counts[c] / n_docs) for c in self.classes}
        self.log_likelihood = {}
        for c in self.classes:
            counts = word_counts[c]
            denom = math.log(sum(counts.values()) + self.alpha * len(vocab))
            self.log_likelihood[c] = {
                w: math.log(counts.get(w, 0) + self.alpha) - denom for w in vocab
            }
        return self

    def posteriors(self, tokens: Sequence[str]) -> list[tuple[str, float]]:
        """``(class, probability)`` for every class, most probable first (ties by name)."""
        known = [t for t in tokens if t in self.vocabulary]
        scores = {
            c: self.log_prior[c] + sum(self.log_likelihood[c][t] for t in known)
            for c in self.classes
        }
        top = max(scores.values())
        exp = {c: math.exp(s - top) for c, s in scores.items()}
        total = sum(exp.values())
        return sorted(((c, exp[c] / total) for c in self.classes), key=lambda x: (-x[1], x[0]))

    def evidence(self, tokens: Sequence[str], label: str) -> list[tuple[str, float]]:
        """The words of ``tokens`` that speak for ``label``, strongest first: each word's
        ``log P(w | label) − max over other classes of log P(w | c)``, positive ones only."""
        others = [c for c in self.classes if c != label]
        seen: dict[str, float] = {}
        for t in tokens:
            if t in seen or t not in self.vocabulary or label not in self.log_likelihood:
                continue
            best_other = max((self.log_likelihood[c][t] for c in others), default=-math.inf)
            seen[t] = self.log_likelihood[label][t] - best_other
        return sorted(((t, s) for t, s in seen.items() if s > 0), key=lambda x: (-x[1], x[0]))


@dataclass(frozen=True)
class Classified:
    """The category of one suggestion, how sure the classifier is, and why (its words)."""

    category: str
    confidence: float
    top_terms: tuple[str, ...]


MIN_CONFIDENCE = 0.5
"""Below this posterior probability the guess is reported as ``other``: a wrong category
sends a suggestion to the wrong desk, ``other`` sends it to a person who reads it."""

TRAINING_FILE = "suggestions_train.tsv"


def read_labelled(lines: Iterable[str]) -> list[tuple[str, str]]:
    """``(category, text)`` pairs from ``category<TAB>text`` lines; ``#`` comments and
    blank lines are skipped; an unknown category is an error (a typo would otherwise
    create a thirteenth category silently)."""
    pairs: list[tuple[str, str]] = []
    for lineno, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        label, sep, text = line.partition("\t")
        if not sep or not text.strip():
            raise ValueError(f"line {lineno}: expected 'category<TAB>text'")
        if label not in CATEGORIES_BY_CODE:
            raise ValueError(f"line {lineno}: unknown category {label!r}")
        pairs.append((label, text.strip()))
    return pairs


def training_set() -> list[tuple[str, str]]:
    """The labelled suggestions shipped with the package (``data/suggestions_train.tsv``)."""
    ref = resources.files("cityeye.participation").joinpath("data", TRAINING_FILE)
    return read_labelled(ref.read_text(encoding="utf-8").splitlines())


@dataclass(frozen=True)
class _Model:
    classifier: NaiveBayes
    doc_freq: Mapping[str, int]
    n_docs: int


_model_lock = threading.Lock()
_model: _Model | None = None


def _default_model() -> _Model:
    """Classifier and training document frequencies, built once on first use (~1 s with
    the jieba dictionary), thread-safe."""
    global _model
    m = _model
    if m is not None:
        return m
    with _model_lock:
        if _model is None:
            samples = [(label, tokenize(text)) for label, text in training_set()]
            df: Counter[str] = Counter()
            for _, tokens in samples:
                df.update(set(tokens))
            nb = NaiveBayes().fit((label, features(tokens)) for label, tokens in samples)
            _model = _Model(nb, dict(df), len(samples))
        return _model


def classify(text: str, *, min_confidence: float = MIN_CONFIDENCE) -> Classified:
    """The category of a suggestion (a code of :data:`SUGGESTION_CATEGORIES`).

    ``confidence`` is the classifier's posterior probability of its best guess; below
    ``min_confidence``, or when no word of the text was seen in training, the category
    is ``other``. ``top_terms`` are up to three words (whole words, not the character
    features) that argued for the guess, for the desk to show — also when the guess was
    turned into ``other``.
    """
    return _classify_tokens(tokenize(text), min_confidence)


def _classify_tokens(tokens: Sequence[str], min_confidence: float) -> Classified:
    nb = _default_model().classifier
    feats = features(tokens)
    if not any(f in nb.vocabulary for f in feats):
        return Classified(OTHER, 0.0, ())
    best, p = nb.posteriors(feats)[0]
    terms = tuple(t for t, _ in nb.evidence(tokens, best)[:3])
    return Classified(best if p >= min_confidence else OTHER, p, terms)


# --------------------------------------------------------------------------- grouping

DEFAULT_THRESHOLD = 0.35
"""Cosine similarity from which a suggestion joins a group. Tuned on the grouping
fixture of tests/unit/test_participation_text.py (30 rewordings of one car-park
complaint, 20 of one broken lamp, 10 unrelated ones half naming the same estate and
building), over several arrival orders: at 0.35 every car-park rewording scores
0.57–0.9 against its group and the car park stays one group; the lamp's shorter, more
varied rewordings score 0.37–0.8, so they form one to three groups; unrelated
suggestions stay ≤ 0.31 after the category penalty. At 0.3 unrelated suggestions of the
same building start to join; at 0.45 the car park splits. docs/participation.md.
"""

PLACE_FACTOR = 0.7
"""Weight multiplier for place tokens (:func:`is_place`: ``3幢``, ``和睦新村``). Never
in the training set, they would get the largest IDF there is, and a suggestion that
names its estate would then group with the estate's other complaints rather than with
the same complaint worded without the name. The area scope already separates estates;
inside one, a building number still helps locate (3幢's lamp vs 5幢's). 0.7 was tuned
with :data:`DEFAULT_THRESHOLD`: at 1.0 a noise complaint from 3幢 joins 3幢's lamp group,
at 0.5 the lamp's own rewordings split further."""

CATEGORY_PENALTY = 0.85
"""Similarity is multiplied by this when the suggestion's category differs from the
group's: a noise complaint and a broken lamp in the same building share the estate's
name and the building number, which can be half of what either says; the category is
what tells them apart. A penalty, not a wall, because the classifier is wrong one time
in seven (docs/participation.md) and a near-copy should still find its group."""

SNAPSHOT_VERSION = 1


@dataclass
class Group:
    """Suggestions about (very probably) the same thing, in one area.

    ``centroid`` is the sum of its members' unit TF-IDF vectors; ``norm2`` its squared
    length, kept up to date incrementally so a comparison costs only the new text's words.
    """

    id: str
    area: str
    members: list[str] = field(default_factory=list)
    categories: Counter[str] = field(default_factory=Counter)
    centroid: dict[str, float] = field(default_factory=dict)
    norm2: float = 0.0

    @property
    def count(self) -> int:
        return len(self.members)

    @property
    def category(self) -> str:
        """The members' most frequent category (ties: the earlier one in the category list)."""
        if not self.categories:
            return OTHER
        order = {c: i for i, c in enumerate(CATEGORY_CODES)}
        return min(self.categories, key=lambda c: (-self.categories[c], order.get(c, 99), c))

    def top_terms(self, n: int = 3) -> tuple[str, ...]:
        """The heaviest words of the centroid: what the members have in common."""
        ranked = sorted(self.centroid.items(), key=lambda kv: (-kv[1], kv[0]))
        return tuple(t for t, _ in ranked[:n])

    @property
    def label(self) -> str:
        """A readable name, e.g. ``停车位 · 消防通道 · 占用``."""
        return " · ".join(self.top_terms())


class Grouper:
    """Incremental leader clustering of suggestions, per area.

    ``add`` compares a suggestion only with groups of the same ``area`` (a community or
    grid: residents of two estates complaining about "the car park" mean two car parks)
    that share at least one word with it, found through an inverted index
    ``(area, word) → groups``; the cost of one ``add`` is the length of those posting
    lists, not the number of groups.

    A word's weight is its IDF over the training set, place names damped (:meth:`weight`);
    a group is the sum of its members' vectors; a group of another category than the
    suggestion's is handicapped by :data:`CATEGORY_PENALTY`. The state — groups and
    their centroids — is in :meth:`snapshot`.

    Deterministic: the same suggestions in the same order give the same groups; ties in
    similarity go to the older group. One lock serialises ``add``, ``summary`` and
    ``snapshot``, so a service may share one grouper between threads.
    """

    def __init__(
        self, threshold: float = DEFAULT_THRESHOLD, category_penalty: float = CATEGORY_PENALTY
    ) -> None:
        self.threshold = threshold
        self.category_penalty = category_penalty
        self.groups: dict[str, Group] = {}
        self.assignment: dict[str, str] = {}
        self._index: dict[tuple[str, str], list[str]] = {}
        self._seq = 0
        self._lock = threading.Lock()

    # -- vectors

    def weight(self, term: str) -> float:
        """How rare a word is in residents' suggestions: ``log((N + 1) / (df + 1)) + 1``
        over the training set, a stable formula (消防通道 is rarer than 停车 everywhere).

        Not updated from the stream on purpose: a group's own words would then lose
        weight as the group grows (200 complaints about one car park make 停车场
        common), and the groups it has already formed would drift from the weights that
        formed them.
        """
        model = _default_model()
        idf = math.log((model.n_docs + 1) / (model.doc_freq.get(term, 0) + 1)) + 1.0
        return idf * PLACE_FACTOR if is_place(term) else idf

    def vector(self, tokens: Sequence[str]) -> dict[str, float]:
        """Unit TF-IDF vector of ``tokens`` (sub-linear tf: ``1 + log tf``)."""
        tf = Counter(tokens)
        vec = {t: (1.0 + math.log(n)) * self.weight(t) for t, n in tf.items()}
        norm = math.sqrt(sum(w * w for w in vec.values()))
        return {t: w / norm for t, w in vec.items()} if norm else {}

    # -- the API

    def add(self, id: str, text: str, area: str, category: str | None = None) -> str:
        """Put a suggestion in a group and return the group's id.

        ``category`` may be given (a person chose it); otherwise :func:`classify` decides.
        Adding an id that is already grouped returns its group and changes nothing, so a
        redelivered suggestion is not counted twice.
        """
        with self._lock:
            if id in self.assignment:
                return self.assignment[id]
            tokens = tokenize(text)
            if category is None:
                category = _classify_tokens(tokens, MIN_CONFIDENCE).category
            vec = self.vector(tokens)
            best, best_sim = self._nearest(vec, area, category)
            if best is None or best_sim < self.threshold:
                self._seq += 1
                best = Group(id=f"g{self._seq:06d}", area=area)
                self.groups[best.id] = best
            self._join(best, id, category, vec)
            self.assignment[id] = best.id
            return best.id

    def similarity(self, text: str, group_id: str) -> float:
        """Cosine similarity of ``text`` to a group, before the category penalty (for
        tuning and for explaining a grouping)."""
        group = self.groups[group_id]
        vec = self.vector(tokenize(text))
        dot = sum(w * group.centroid.get(t, 0.0) for t, w in vec.items())
        return dot / math.sqrt(group.norm2) if group.norm2 > 0 else 0.0

    def _nearest(
        self, vec: Mapping[str, float], area: str, category: str
    ) -> tuple[Group | None, float]:
        dots: dict[str, float] = {}
        for term, w in vec.items():
            for gid in self._index.get((area, term), ()):
                dots[gid] = dots.get(gid, 0.0) + w * self.groups[gid].centroid[term]
        best: Group | None = None
        best_sim = -1.0
        for gid in sorted(dots):  # ids grow with age: ties go to the older group
            group = self.groups[gid]
            sim = dots[gid] / math.sqrt(group.norm2) if group.norm2 > 0 else 0.0
            if group.category != category:
                sim *= self.category_penalty
            if sim > best_sim:
                best, best_sim = group, sim
        return best, best_sim

    def _join(self, group: Group, id: str, category: str, vec: Mapping[str, float]) -> None:
        # |s + v|² = |s|² + 2 s·v + |v|²
        dot = sum(w * group.centroid.get(t, 0.0) for t, w in vec.items())
        group.norm2 += 2.0 * dot + sum(w * w for w in vec.values())
        for term, w in vec.items():
            if term not in group.centroid:
                group.centroid[term] = 0.0
                self._index.setdefault((group.area, term), []).append(group.id)
            group.centroid[term] += w
        group.members.append(id)
        group.categories[category] += 1

    # -- views and persistence

    def summary(self) -> list[dict[str, Any]]:
        """Groups, largest first (ties: oldest first), as plain dicts for a desk or report."""
        with self._lock:
            ordered = sorted(self.groups.values(), key=lambda g: (-g.count, g.id))
            return [
                {
                    "id": g.id,
                    "area": g.area,
                    "count": g.count,
                    "category": g.category,
                    "label": g.label,
                    "top_terms": list(g.top_terms()),
                    "members": list(g.members),
                }
                for g in ordered
            ]

    def snapshot(self) -> dict[str, Any]:
        """The whole state as JSON-able plain data; :meth:`restore` continues exactly
        where this left off (floats survive JSON exactly: Python writes the shortest
        repr that reads back to the same double)."""
        with self._lock:
            return {
                "version": SNAPSHOT_VERSION,
                "threshold": self.threshold,
                "category_penalty": self.category_penalty,
                "seq": self._seq,
                "groups": [
                    {
                        "id": g.id,
                        "area": g.area,
                        "members": list(g.members),
                        "categories": dict(g.categories),
                        "centroid": dict(g.centroid),
                        "norm2": g.norm2,
                    }
                    for g in self.groups.values()
                ],
            }

    @classmethod
    def restore(cls, state: Mapping[str, Any]) -> Grouper:
        """A grouper from :meth:`snapshot`'s data (e.g. after ``json.loads``)."""
        if state.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"unsupported grouper snapshot version {state.get('version')!r}")
        grouper = cls(
            threshold=float(state["threshold"]),
            category_penalty=float(state["category_penalty"]),
        )
        grouper._seq = int(state["seq"])
        for raw in state["groups"]:
            group = Group(
                id=str(raw["id"]),
                area=str(raw["area"]),
                members=[str(m) for m in raw["members"]],
                categories=Counter({str(k): int(v) for k, v in raw["categories"].items()}),
                centroid={str(k): float(v) for k, v in raw["centroid"].items()},
                norm2=float(raw["norm2"]),
            )
            grouper.groups[group.id] = group
            for term in group.centroid:  # centroid keys are in insertion (join) order
                grouper._index.setdefault((group.area, term), []).append(group.id)
            for member in group.members:
                grouper.assignment[member] = group.id
        # posting lists must be in group-creation order, as add() builds them
        for postings in grouper._index.values():
            postings.sort()
        return grouper


# --------------------------------------------------------------------------- titles

TITLE_LENGTH = 40
"""The most characters of a group's title (:func:`headline`): a line on the council
page and the cockpit's participation row. Our choice: a Chinese sentence of a
complaint is mostly 15–35 characters; a longer one is cut at a clause."""

_SENTENCE_END = "。！？!?；;"
_LEAD_IN = re.compile(r"^[^，,。！？!?；;：:]{1,6}[：:]\s*")
_CLAUSE_END = "，,、：:"


def representative(texts: Sequence[str], grouper: Grouper | None = None) -> str:
    """The member text most similar to all the others (the medoid) under the grouping's
    own similarity, the cosine of unit TF-IDF vectors (:meth:`Grouper.vector`).

    For unit vectors, ``Σ_j cos(v_i, v_j) = v_i · Σ_j v_j``, so the medoid is the member
    closest to the sum of all: one pass, each distinct text tokenised once. A greeting
    or an aside ("你好，", "已经说了好几次了") adds words the others do not share and
    lowers a member's score, so the plainest wording wins. Ties: the more frequent
    text, then the shorter, then the first in order. ``""`` for no texts."""
    if not texts:
        return ""
    counts = Counter(texts)
    order = {text: i for i, text in reversed(list(enumerate(texts)))}
    tools = grouper or Grouper()
    vectors = {text: tools.vector(tokenize(text)) for text in counts}
    total: dict[str, float] = {}
    for text, n in counts.items():
        for term, w in vectors[text].items():
            total[term] = total.get(term, 0.0) + n * w

    def score(text: str) -> tuple[float, int, int, int]:
        dot = sum(w * total.get(term, 0.0) for term, w in vectors[text].items())
        return (-round(dot, 9), -counts[text], len(text), order[text])

    return min(counts, key=score)


def headline(text: str, limit: int = TITLE_LENGTH) -> str:
    """``text`` as a title of at most ``limit`` characters: whole when it fits, else
    up to the last sentence end within the limit, else the last clause boundary (with
    "…"), else cut at the limit (with "…"). Whitespace runs become one space, and a
    short lead-in before a colon ("建议：", "反映一下：") goes: it is how the resident
    began, not what the group is about."""
    words = " ".join(text.split())
    lead = _LEAD_IN.match(words)
    if lead and lead.end() < len(words):
        words = words[lead.end() :]
    if len(words) <= limit:
        return words
    head = words[:limit]
    for stops, mark in ((_SENTENCE_END, ""), (_CLAUSE_END, "…")):
        cut = max(head.rfind(c) for c in stops)
        if cut >= limit // 3:  # not a stub: "你好，" alone says nothing
            return head[: cut + (1 if not mark else 0)] + mark
    return words[: limit - 1] + "…"

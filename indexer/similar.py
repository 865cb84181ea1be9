"""Similar rulings (类案检索): from a ruling, or from a paragraph of facts; each hit says why it matched.

A fact description of several hundred characters is not a query to AND together. It becomes a
profile of what it is about:

- **key terms**: the words of :func:`indexer.analyzer.segment` (the index's own segmenter and
  legal dictionary, so query and index agree), weighted by TF-IDF with jieba's general-corpus IDF
  table, legal-dictionary words up, procedural boilerplate (被告人, 本院认为, 经审理查明 …) and
  anonymised names (张某某) out; the strongest ``MAX_TERMS`` are kept;
- **statutes**: articles cited in the text (:func:`kb.citations.extract_citations`), as the index's
  citation keys ('消费者权益保护法#第五十五条');
- **labels**: the cause of action (案由) and, for criminal facts, the charges (罪名). A label
  named in full (犯盗窃罪, 网络服务合同纠纷) counts fully; a charge's core words alone (盗窃,
  诈骗) count less, since facts describe conduct without naming the charge.

Candidates come from one weighted OR query over the text fields (never an AND: any key term may
match) and from the rulings that share a cited article or the cause, both scored by the engine's
fast path (:meth:`indexer.engine.Engine.score`, posting arrays). They are re-ranked by a blend of
the normalised text score, statute overlap (each article weighted by its rarity, with partial
credit for the same law) and label overlap.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from html import escape
from typing import Any

import numpy as np

from indexer.analyzer import normalize, read_dictionary, segment
from indexer.build import USER_DICTIONARY
from indexer.engine import Engine, Query, Term, Unsupported, all_of, any_of
from indexer.factsim import TIME_WORDS, facts_section
from indexer.hits import Hit
from indexer.query import ENTRY_ONLY, RULINGS_ONLY
from indexer.search import QueryError, SearchIndex
from kb.citations import extract_citations
from kb.links import citation_key
from kb.precedent import is_recent, tier_rank

MIN_TEXT = 20
MAX_TEXT = 20_000
MAX_LIMIT = 100
MAX_TERMS = 40
SHOWN_TERMS = 10
POOL = 200
TEXT_FIELDS = ("title", "summary", "body", "tags")
# Weights of the blend; the text score is normalised to [0, 1] first. Chosen as round numbers, not
# fitted: the terms carry most of the evidence, statutes and labels confirm it.
TEXT_WEIGHT = 0.6
STATUTE_WEIGHT = 0.25
LABEL_WEIGHT = 0.25
SAME_LAW_CREDIT = 0.3
DICTIONARY_BOOST = 1.3
NAMED_LABEL = 1.0
IMPLIED_LABEL = 0.3
IMPLIED_MAX = 0.8
# Authority tiers in the order of 法发〔2020〕24号 art. 4; only guiding cases must be followed.

# Words every judgment uses whatever it is about: they say nothing about the facts.
# fmt: off
BOILERPLATE = frozenset(["被告人", "被告", "原告", "上诉人", "被上诉人", "原审", "申请人", "被申请人", "第三人", "当事人", "委托", "代理人", "诉讼代理人", "辩护人", "法定代表人", "法院", "本院", "人民法院", "审理", "查明", "经审理查明", "审理查明", "认为", "本院认为", "判决", "判决如下", "裁定", "裁定如下", "判令", "宣判", "审判", "诉讼", "诉称", "辩称", "起诉", "起诉书", "诉讼请求", "请求", "事实", "理由", "证据", "证实", "证明", "供述", "证言", "笔录", "陈述", "意见", "质证", "采信", "认定", "予以", "公诉机关", "检察院", "人民检察院", "指控", "公诉", "出庭", "支持", "依法", "依照", "根据", "规定", "法律", "条", "款", "项", "之", "规定", "相关", "有关", "案件", "本案", "该案", "上述", "前述", "所述", "以上", "以下", "其中", "期间", "时许", "左右", "之后", "之前", "其后", "随后", "当日", "次日", "当天", "同日", "某日", "民事", "刑事", "行政", "一审", "二审", "再审", "终审", "案号", "案由", "纠纷", "案", "号", "元", "人民币", "万元", "余元", "年", "月", "日", "时", "分", "许", "等", "其", "该", "此", "称", "系", "后", "前", "经", "并", "及", "将", "向", "与", "以", "于", "从", "由", "为", "对于", "关于", "以及", "或者", "并且", "而且", "均", "即", "亦", "已", "已经", "未", "无", "有", "不", "上", "下", "中", "被害人", "犯罪", "涉嫌", "罪", "有期徒刑", "拘役", "管制", "罚金", "缓刑", "刑期", "羁押", "逮捕", "拘留", "取保候审", "归案", "到案", "坦白", "自首", "如实", "认罪", "认罚",
                          # the sentencing and plea words of criminal judgments, and places named by pointing
                          "判处", "处罚", "处罚金", "量刑", "情节", "具有", "罪名", "机关", "过程", "异议", "开庭", "开庭审理", "自愿", "建议", "具结", "具结书", "签字",
                          "本市", "本区", "本县", "本省", "该市", "该区", "该县", "我市", "当地", "附近"])
# Common charges (罪名) of the Criminal Law, as the SPC names them. "name: core|core" lists the
# words that imply the charge in a description of conduct; by default the name without 罪.
CHARGES = """
盗窃罪: 盗窃|扒窃|偷盗|偷窃|窃取
诈骗罪: 诈骗|骗取
抢劫罪: 抢劫
抢夺罪: 抢夺
敲诈勒索罪: 敲诈勒索|勒索
故意伤害罪: 故意伤害|轻伤
故意杀人罪: 故意杀人|杀害
过失致人死亡罪
过失致人重伤罪
危险驾驶罪: 危险驾驶|醉酒驾驶|醉驾|追逐竞驶
交通肇事罪: 交通肇事|肇事逃逸|交通事故|肇事
寻衅滋事罪: 寻衅滋事
聚众斗殴罪: 聚众斗殴
故意毁坏财物罪: 故意毁坏财物|毁坏财物
开设赌场罪: 开设赌场|网络赌博|赌博网站
赌博罪: 聚众赌博|以赌博为业
走私、贩卖、运输、制造毒品罪: 贩卖毒品|运输毒品|制造毒品|走私毒品|贩毒|甲基苯丙胺|海洛因
非法持有毒品罪: 非法持有毒品|持有毒品
容留他人吸毒罪: 容留他人吸毒|容留吸毒
非法吸收公众存款罪: 非法吸收公众存款|吸收公众存款|非法集资
集资诈骗罪: 集资诈骗
信用卡诈骗罪: 信用卡诈骗|恶意透支|冒用他人信用卡
合同诈骗罪: 合同诈骗
贷款诈骗罪: 贷款诈骗
保险诈骗罪: 保险诈骗|骗保
职务侵占罪: 职务侵占
挪用资金罪: 挪用资金
挪用公款罪: 挪用公款
贪污罪: 贪污
受贿罪: 受贿|收受贿赂
行贿罪: 行贿
非国家工作人员受贿罪: 非国家工作人员受贿
滥用职权罪: 滥用职权
玩忽职守罪: 玩忽职守
掩饰、隐瞒犯罪所得、犯罪所得收益罪: 掩饰、隐瞒犯罪所得|掩饰隐瞒犯罪所得|隐瞒犯罪所得
帮助信息网络犯罪活动罪: 帮助信息网络犯罪活动|帮信
非法利用信息网络罪: 非法利用信息网络
侵犯公民个人信息罪: 侵犯公民个人信息|公民个人信息
非法获取计算机信息系统数据罪: 非法获取计算机信息系统数据
非法控制计算机信息系统罪: 非法控制计算机信息系统
破坏计算机信息系统罪: 破坏计算机信息系统
提供侵入、非法控制计算机信息系统程序、工具罪: 提供侵入、非法控制计算机信息系统程序
拒不履行信息网络安全管理义务罪: 拒不履行信息网络安全管理义务
组织考试作弊罪: 组织考试作弊|考试作弊
非法经营罪: 非法经营
假冒注册商标罪: 假冒注册商标
销售假冒注册商标的商品罪: 销售假冒注册商标的商品
侵犯著作权罪: 侵犯著作权|盗版
销售侵权复制品罪: 销售侵权复制品
侵犯商业秘密罪: 侵犯商业秘密
生产、销售伪劣产品罪: 伪劣产品
生产、销售有毒、有害食品罪: 有毒、有害食品|有毒有害食品
生产、销售不符合安全标准的食品罪: 不符合安全标准的食品
虚开增值税专用发票罪: 虚开增值税专用发票|虚开发票
逃税罪: 逃税|偷税
妨害公务罪: 妨害公务
袭警罪: 袭警
拒不执行判决、裁定罪: 拒不执行判决|拒不执行裁定
虚假诉讼罪: 虚假诉讼
伪证罪: 伪证
窝藏、包庇罪: 窝藏|包庇
非法拘禁罪: 非法拘禁
绑架罪: 绑架
拐卖妇女、儿童罪: 拐卖妇女|拐卖儿童
强奸罪: 强奸
强制猥亵、侮辱罪: 强制猥亵
猥亵儿童罪: 猥亵儿童
组织卖淫罪: 组织卖淫
引诱、容留、介绍卖淫罪: 容留卖淫|介绍卖淫|引诱卖淫
制作、复制、出版、贩卖、传播淫秽物品牟利罪: 传播淫秽物品牟利|贩卖淫秽物品
传播淫秽物品罪: 传播淫秽物品
侵占罪: 侵占
重婚罪: 重婚
遗弃罪: 遗弃
虐待罪: 虐待
非法侵入住宅罪: 非法侵入住宅
侮辱罪: 侮辱
诽谤罪: 诽谤
组织、领导、参加黑社会性质组织罪: 黑社会性质组织
非法持有、私藏枪支、弹药罪: 非法持有枪支|私藏枪支
放火罪: 放火
失火罪: 失火
以危险方法危害公共安全罪: 以危险方法危害公共安全
重大责任事故罪: 重大责任事故
非法采矿罪: 非法采矿
盗伐林木罪: 盗伐林木
滥伐林木罪: 滥伐林木
非法狩猎罪: 非法狩猎
非法捕捞水产品罪: 非法捕捞水产品|非法捕捞
危害珍贵、濒危野生动物罪: 珍贵、濒危野生动物|濒危野生动物
非法占用农用地罪: 非法占用农用地
污染环境罪: 污染环境
伪造、变造、买卖国家机关公文、证件、印章罪: 伪造国家机关公文|买卖国家机关证件|伪造国家机关印章
伪造公司、企业、事业单位、人民团体印章罪: 伪造公司印章|伪造印章
伪造、变造居民身份证罪: 伪造居民身份证
妨害信用卡管理罪: 妨害信用卡管理
洗钱罪: 洗钱
骗取贷款罪: 骗取贷款
高利转贷罪: 高利转贷
组织、领导传销活动罪: 传销
拒不支付劳动报酬罪: 拒不支付劳动报酬|拖欠工资
偷越国（边）境罪: 偷越国境|偷越边境
组织他人偷越国（边）境罪: 组织他人偷越国境
招摇撞骗罪: 招摇撞骗
非法行医罪: 非法行医
聚众扰乱社会秩序罪: 聚众扰乱社会秩序
""".strip().splitlines()
# fmt: on
_CAUSE = re.compile(r"[\u4e00-\u9fff]{2,20}纠纷")
_CAUSE_LEAD = re.compile(r"本案|一案|属于|涉及|原告|被告|[系为与和诉称因的是在被对及等之某]")
_NAME = re.compile(r"某")
# Article numbers (第五十五) and institutions (北京互联网法院, 某某派出所) say nothing about the facts.
_NOT_FACT = re.compile(r"^第[0-9零〇一二两三四五六七八九十百千]+|(?:法院|检察院|公安局|派出所|分局)$")
_CJK_OR_ALPHA = re.compile(r"[\u4e00-\u9fffa-z]")
_NUMERAL_QUANTITY = re.compile(r"^[零〇一二两三四五六七八九十百千万余]+[个日月年次名天时分元倍件辆台周岁]*$")
# How the court lists and weighs its evidence (书证、物证、勘验、检查笔录…来源合法、客观真实) and who
# investigated (公安机关): said of every criminal judgment, never what happened; with words that carry
# nothing alone (所有, 先后, 境内, 自动 of 自动投案).
EVIDENCE = frozenset(["书证", "物证", "勘验", "检查", "辨认", "户籍", "身份", "来源", "合法", "客观", "真实", "关联", "视听", "资料",
                      "电子数据", "照片", "扣押", "清单", "决定书", "通知书", "情况说明", "抓获", "现场", "所有", "自动", "文件",
                      "视听资料", "上述事实", "公安", "公安机关", "先后", "境内", "全省", "全市", "全县"])
# Units of measure belong to a number (186毫克/100毫升, 3.5克): alone they say nothing of the conduct.
UNITS = frozenset(["毫克", "毫升", "千克", "公斤", "厘米", "毫米", "公分", "公里", "千米", "平方米", "立方米", "公顷", "千瓦",
                   "分贝", "摄氏度", "公升", "市斤"])


@dataclass(frozen=True)
class Charge:
    """A criminal charge and the words that name or imply it."""

    name: str
    cores: tuple[str, ...]


def _parse_charges(lines: Iterable[str]) -> tuple[Charge, ...]:
    charges = []
    for line in lines:
        name, _, cores = line.partition(":")
        name = name.strip()
        words = [w.strip() for w in cores.split("|") if w.strip()] or [name.removesuffix("罪")]
        charges.append(Charge(name, tuple(words)))
    return tuple(charges)


CHARGE_LIST = _parse_charges(CHARGES)
# One alternation, longest first, so 信用卡诈骗 wins over 诈骗 at the same place.
_CHARGE_NAMES = {normalize(c.name): c.name for c in CHARGE_LIST}
_CHARGE_NAME_RE = re.compile("|".join(re.escape(n) for n in sorted(_CHARGE_NAMES, key=len, reverse=True)))
_CHARGE_CORES = {normalize(core): c.name for c in CHARGE_LIST for core in c.cores}
_CHARGE_CORE_RE = re.compile("|".join(re.escape(n) for n in sorted(_CHARGE_CORES, key=len, reverse=True)))


@dataclass
class FactProfile:
    """What a fact description is about: weighted key terms, cited articles, cause and charges."""

    terms: list[tuple[str, float]] = field(default_factory=list)
    statutes: list[str] = field(default_factory=list)
    labels: dict[str, float] = field(default_factory=dict)

    @property
    def causes(self) -> list[str]:
        """Return the causes of action (labels ending in 纠纷)."""
        return [name for name in self.labels if not name.endswith("罪")]

    @property
    def charges(self) -> list[str]:
        """Return the charges (labels ending in 罪)."""
        return [name for name in self.labels if name.endswith("罪")]

    def to_dict(self) -> dict[str, Any]:
        """Return the profile as JSON-ready values."""
        return {
            "terms": [{"term": t, "weight": round(w, 3)} for t, w in self.terms],
            "statutes": [statute_label(key) for key in self.statutes],
            "causes": self.causes,
            "charges": self.charges,
        }


@dataclass
class SimilarHit(Hit):
    """One similar ruling (a hit) and why it matched."""

    shared_labels: list[str] = field(default_factory=list)
    shared_statutes: list[str] = field(default_factory=list)
    same_law: list[str] = field(default_factory=list)
    shared_terms: list[str] = field(default_factory=list)
    text_score: float = 0.0
    statute_score: float = 0.0
    label_score: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Return the hit as JSON-ready values: the ruling, then the explanation (with the snippet)."""
        data = super().to_dict()
        data.pop("snippet", None)
        data["explanation"] = {
            "causes": [x for x in self.shared_labels if not x.endswith("罪")],
            "charges": [x for x in self.shared_labels if x.endswith("罪")],
            "statutes": [statute_label(k) for k in self.shared_statutes],
            "same_law": self.same_law,
            "terms": self.shared_terms,
            "snippet": self.snippet,
            "scores": {"text": round(self.text_score, 4), "statutes": round(self.statute_score, 4),
                       "labels": round(self.label_score, 4)},
        }
        return data


@dataclass
class SimilarResult:
    """The similar rulings and the profile they were found with."""

    hits: list[SimilarHit]
    profile: FactProfile
    source: str  # "text" or "entry"
    entry_id: str | None = None
    order: str = "similarity"

    def to_dict(self) -> dict[str, Any]:
        """Return the result as the API's JSON body."""
        return {"ok": True, "source": self.source, "id": self.entry_id, "order": self.order,
                "total": len(self.hits), "understood": self.profile.to_dict(),
                "results": [hit.to_dict() for hit in self.hits]}


def statute_label(key: str) -> str:
    """Return a citation key ('消费者权益保护法#第五十五条') as people write it: 《消费者权益保护法》第五十五条."""
    law, _, article = key.partition("#")
    return f"《{law}》{article}" if article else f"《{law}》"


@lru_cache(maxsize=1)
def _idf() -> tuple[dict[str, float], float]:
    """Return jieba's IDF table and its median (loaded once, ~0.5 s)."""
    import jieba.analyse

    table = jieba.analyse.default_tfidf
    return table.idf_freq, table.median_idf


_dictionary_lock = threading.Lock()
_dictionaries: dict[str, frozenset[str]] = {}


def legal_dictionary(index: SearchIndex) -> frozenset[str]:
    """Return the words of the user dictionary the live build was made with."""
    build = index.build_dir
    if build is None:
        return frozenset()
    key = str(build)
    with _dictionary_lock:
        if key not in _dictionaries:
            path = build / USER_DICTIONARY
            words = {term for term, _freq in read_dictionary(path)} if path.is_file() else set()
            _dictionaries[key] = frozenset(words)
        return _dictionaries[key]


def is_key_term(word: str) -> bool:
    """Return True for words that can carry meaning: not boilerplate, names, numbers or single characters.

    Similar rulings are explained by key terms only: a one-character province name (浙 of a plate
    浙A8XXXX), a quantity (十五日, 二个月: the sentence, not the conduct), a unit of measure (毫克), a
    part of a date (日晚 of 3日晚) or the court's list of evidence (书证, 勘验) is never a reason.
    """
    if (len(word) < 2 or word in BOILERPLATE or word in UNITS or word in TIME_WORDS or word in EVIDENCE or _NAME.search(word)
            or _NOT_FACT.search(word) or _NUMERAL_QUANTITY.match(word)):
        return False
    if not _CJK_OR_ALPHA.search(word):
        return False
    return not (word.isascii() and any(ch.isdigit() for ch in word))


def key_terms(text: str, dictionary: frozenset[str] = frozenset(), limit: int = MAX_TERMS) -> list[tuple[str, float]]:
    """Return the ``limit`` strongest terms of ``text`` with weights in (0, 1], strongest first.

    TF-IDF over the index's segmenter: tf is damped (1 + log tf), IDF is jieba's general-corpus
    table (the median for unknown words), and legal-dictionary words weigh a little more. Statute
    citations are cut out first: they are matched as articles, not as words.
    """
    text = without_citations(text)
    counts = Counter(word for word, _pos, _start, _end in segment(normalize(text), subwords=False) if is_key_term(word))
    if not counts:
        return []
    idf, median = _idf()
    weights = {}
    for word, tf in counts.items():
        weight = (1 + math.log(tf)) * idf.get(word, median)
        if word in dictionary:
            weight *= DICTIONARY_BOOST
        weights[word] = weight
    top = sorted(weights.items(), key=lambda item: (-item[1], item[0]))[:limit]
    best = top[0][1]
    return [(word, weight / best) for word, weight in top]


def detect_labels(text: str, known_causes: Iterable[str] = ()) -> dict[str, float]:
    """Return cause-of-action and charge labels found in ``text``, with how surely (1.0 named, less implied)."""
    text = normalize(text)
    labels: dict[str, float] = {}
    for match in _CHARGE_NAME_RE.finditer(text):
        labels[_CHARGE_NAMES[match[0]]] = NAMED_LABEL
    implied = Counter(_CHARGE_CORES[m[0]] for m in _CHARGE_CORE_RE.finditer(text))
    for name, count in implied.items():
        if name not in labels:
            labels[name] = min(IMPLIED_MAX, IMPLIED_LABEL + 0.1 * (count - 1))
    for cause in known_causes:
        if not cause:
            continue
        if cause in text:
            labels[cause] = NAMED_LABEL
        elif cause.endswith("纠纷") and len(cause) > 4 and cause[:-2] in text:
            labels.setdefault(cause, IMPLIED_LABEL)
    for match in _CAUSE.finditer(text):
        # The run of characters before 纠纷 starts wherever the sentence does (本案系…, 原告与被告…).
        cause = _CAUSE_LEAD.split(match[0])[-1]
        if len(cause) > 4:
            labels.setdefault(cause, NAMED_LABEL)
    return labels


def document_labels(fields: dict[str, Any]) -> set[str]:
    """Return a stored ruling's labels: its cause, and the charges its text names (or implies, if it names none)."""
    labels = {fields["cause"]} if fields.get("cause") else set()
    text = normalize(" ".join(str(fields.get(name) or "") for name in ("title", "summary", "body")))
    named = {_CHARGE_NAMES[m[0]] for m in _CHARGE_NAME_RE.finditer(text)}
    if named:
        return labels | named
    return labels | {_CHARGE_CORES[m[0]] for m in _CHARGE_CORE_RE.finditer(text)}


def without_citations(text: str) -> str:
    """Return ``text`` with its statute citations (《消费者权益保护法》第五十五条) blanked out."""
    pieces, last = [], 0
    for match in extract_citations(text):
        if match.start >= last:
            pieces.append(text[last:match.start])
            pieces.append(" ")
            last = match.end
    pieces.append(text[last:])
    return "".join(pieces)


def text_statutes(text: str) -> list[str]:
    """Return the citation keys of the articles cited in ``text``, in order, without repeats."""
    return list(dict.fromkeys(citation_key(m.citation) for m in extract_citations(text)))


def profile_text(text: str, *, dictionary: frozenset[str] = frozenset(), known_causes: Iterable[str] = ()) -> FactProfile:
    """Return the profile of a fact description."""
    return FactProfile(terms=key_terms(text, dictionary), statutes=text_statutes(text),
                       labels=detect_labels(text, known_causes))


def check_text(text: Any) -> str:
    """Return ``text`` if it is a fact description of acceptable length, else raise QueryError."""
    if not isinstance(text, str):
        raise QueryError("text must be a string of facts.")
    text = text.strip()
    if not MIN_TEXT <= len(text) <= MAX_TEXT:
        raise QueryError(f"text is {len(text)} characters long; give between {MIN_TEXT} and {MAX_TEXT} characters of facts.")
    return text


def check_limit(limit: Any) -> int:
    """Return ``limit`` if it is a whole number from 1 to MAX_LIMIT, else raise QueryError."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise QueryError(f"limit must be a whole number between 1 and {MAX_LIMIT}.")
    return limit


RULINGS = all_of([RULINGS_ONLY, ENTRY_ONLY])


def _term_query(terms: list[tuple[str, float]]) -> Query:
    """Return a weighted OR of every term over every text field: any of them may match."""
    return any_of([any_of([Term(name, term) for name in TEXT_FIELDS], boost=weight) for term, weight in terms])


def _statute_weights(engine: Engine, keys: Iterable[str], total: int) -> dict[str, float]:
    """Return each article key's weight by rarity among the indexed documents (1 + idf)."""
    weights = {}
    for key in keys:
        df = engine.document_frequency("statutes", key)
        weights[key] = 1.0 + math.log((total + 1) / (df + 1))
    return weights


def _known_causes(engine: Engine) -> list[str]:
    # A field with no terms gives an empty lexicon (checked), so nothing to catch here.
    return engine.terms("cause")


def precedent_order(hits: list[SimilarHit], today: dt.date | None = None) -> list[SimilarHit]:
    """Return ``hits`` in the order of art. 4: authority tier, then the last three years, then similarity."""
    today = today or dt.date.today()
    return sorted(hits, key=lambda h: (tier_rank(h.authority), not is_recent(h.date, today), -h.score))


def snippet(text: str, terms: list[str], width: int = 160) -> str:
    """Return the window of ``text`` holding the most distinct ``terms``, HTML-escaped, terms in <mark>."""
    if not text:
        return ""
    folded = normalize(text)  # same length as text, so offsets carry over
    spans: list[tuple[int, int, str]] = []
    for term in sorted(set(terms), key=len, reverse=True):
        for match in re.finditer(re.escape(term), folded):
            if not any(s < match.end() and match.start() < e for s, e, _t in spans):
                spans.append((match.start(), match.end(), term))
    spans.sort()
    start = 0
    if spans:
        best = -1
        for i, (s, _e, _t) in enumerate(spans):
            distinct = len({t for s2, _e2, t in spans[i:] if s2 < s + width})
            if distinct > best:
                best, start = distinct, max(0, s - 20)
    end = min(len(text), start + width)
    pieces = ["…" if start else ""]
    last = start
    for s, e, _t in spans:
        if s < start or e > end:
            continue
        pieces.append(escape(text[last:s]))
        pieces.append(f"<mark>{escape(text[s:e])}</mark>")
        last = e
    pieces.append(escape(text[last:end]))
    pieces.append("…" if end < len(text) else "")
    return "".join(pieces).replace("\n", " ")


# Facts mode (indexer/factsim.py): rulings with a facts section (案件基本情况, as imported criminal
# judgments have) are ranked by BM25 over their facts (the conduct view, plus the all-words view at
# factsim.WORDS_WEIGHT) plus the predicted-charge boost, the weights chosen on LeCaRD's dev half
# (bench/LECARD.md). A ruling scoring below FACTS_CUTOFF of the best one is not offered as similar.
CHARGE_WEIGHT = 0.5
FACTS_CUTOFF = 0.2
CHARGE_MODEL_FILE = "charges.npz"
SNIPPET_SOURCE = 1500  # characters of a judgment's facts searched for the snippet window
_facts_lock = threading.Lock()
_facts_cache: dict[tuple, Any] = {}


def charge_model(index: SearchIndex) -> Any:
    """Return the charge classifier of ``kb train charges`` (KB_CHARGE_MODEL, else <index>/charges.npz), or None."""
    import os
    from pathlib import Path

    from indexer.charges import ChargeModel

    path = Path(os.environ.get("KB_CHARGE_MODEL") or index.root / CHARGE_MODEL_FILE)
    if not path.is_file():
        return None
    key = ("model", str(path), path.stat().st_mtime_ns)
    with _facts_lock:
        if key not in _facts_cache:
            _facts_cache[key] = ChargeModel.load(path)
        return _facts_cache[key]


def facts_matrix(index: SearchIndex, engine: Engine) -> Any:
    """Return the BM25 facts matrix of the rulings with a facts section (saved by the build, else built once); or None."""
    from indexer.factsim import load_matrix, matrix_from_searcher, stamp

    key = ("facts", str(index.build_dir), stamp(engine))
    with _facts_lock:
        if key in _facts_cache:
            return _facts_cache[key]
        matrix = load_matrix(index.build_dir, engine) if index.build_dir else False
        if matrix is False:
            matrix = matrix_from_searcher(engine)
        for old in [k for k in _facts_cache if k[0] == "facts"]:
            del _facts_cache[old]
        _facts_cache[key] = matrix
        return matrix


def _rank_by_facts(index: SearchIndex, engine: Engine, matrix: Any, text: str, profile: FactProfile,
                   limit: int, exclude: str | None = None, charges: Iterable[str] = ()) -> list[SimilarHit]:
    """Rank the rulings with facts by BM25 over facts + predicted-charge boost; explain each hit.

    ``charges`` are the charges of the ruling asked about (similar to an entry): a hit judged for
    one of them names it as shared, whether or not the classifier predicted it.
    """
    from indexer.factsim import blend, charge_overlap

    model = charge_model(index)
    predicted = model.predict(text) if model is not None else {}
    vector = matrix.query_vector(text)  # segmented once, used for scores, terms and reasons
    bm, words = matrix.text_scores(text, vector)  # the conduct view and the all-words view (scoring only)
    overlap = charge_overlap(predicted, matrix)
    scores = blend(bm, overlap, CHARGE_WEIGHT if predicted else 0.0, words)
    if not len(scores) or scores.max() <= 0:
        return []
    if exclude is not None and exclude in matrix.ids:
        scores[matrix.ids.index(exclude)] = 0.0
    count = min(limit, len(scores))
    top = np.argpartition(-scores, count - 1)[:count]
    top = top[np.argsort(-scores[top], kind="stable")]
    best = float(scores[top[0]])
    top_text = float(bm.max()) or 1.0
    for name, p in predicted.items():
        profile.labels.setdefault(name, round(p, 3))
    profile.terms = [(t, w) for t, w in matrix.vector_terms(*vector, top=2 * MAX_TERMS) if is_key_term(t)][:MAX_TERMS]
    top = [int(row) for row in top if scores[row] > 0 and scores[row] >= FACTS_CUTOFF * best]
    reasons = [[t for t in terms if is_key_term(t)][:SHOWN_TERMS] for terms in matrix.batch_contributions(*vector, top, top=3 * SHOWN_TERMS)]
    known = set(charges)
    hits = []
    for row, terms in zip(top, reasons, strict=True):
        # By the unique id alone: adding kind=entry makes Whoosh walk that long posting list (4 ms a hit).
        docnum = engine.find_number(id=matrix.ids[row])
        fields = engine.stored(docnum) if docnum is not None else {}
        shared = [c for c in matrix.charges[row] if c in predicted or c in known]
        hits.append(SimilarHit.from_stored(
            {"id": matrix.ids[row], **fields}, score=round(float(scores[row]), 4),
            shared_labels=shared, shared_terms=terms,
            snippet=facts_section(fields.get("markdown") or "")[:SNIPPET_SOURCE],
            text_score=float(bm[row]) / top_text, label_score=float(overlap[row]),
        ))
    return hits


def search_similar(index: SearchIndex, *, text: str | None = None, entry_id: str | None = None, limit: int = 30,
                   order: str = "similarity") -> SimilarResult:
    """Return the rulings most similar to a fact description or to a stored entry, each explained."""
    if (text is None) == (entry_id is None):
        raise QueryError("give either text (a fact description) or id (a ruling), not both.")
    if order not in ("similarity", "precedent"):
        raise QueryError("order must be similarity or precedent.")
    limit = check_limit(limit)
    engine = index.engine()
    stored = None
    if entry_id is not None:
        stored = engine.find(id=entry_id, kind="entry")
        if stored is None:
            raise QueryError(f"no entry '{entry_id}'.")
    matrix = facts_matrix(index, engine)
    facts = check_text(text) if text is not None else facts_section((stored or {}).get("markdown") or "")
    if matrix is not None and facts:
        # Facts mode: the profile shows the articles cited (if any); charges and terms come from the ranking.
        statutes = text_statutes(facts) if stored is None else [k for k in (stored.get("statutes") or "").split(",") if k]
        profile = FactProfile(statutes=statutes)
        hits = _rank_by_facts(index, engine, matrix, facts, profile, limit if order == "similarity" else MAX_LIMIT,
                              exclude=entry_id, charges=[c for c in ((stored or {}).get("charges") or "").split(",") if c])
    else:
        profile = _profile(index, engine, text, stored)
        hits = _rank(engine, profile, exclude=entry_id)
    hits = hits[:limit] if order == "similarity" else precedent_order(hits)[:limit]
    for hit in hits:
        hit.snippet = snippet(hit.snippet, hit.shared_terms)
    return SimilarResult(hits=hits, profile=profile, source="entry" if entry_id else "text", entry_id=entry_id, order=order)


def _profile(index: SearchIndex, engine: Engine, text: str | None, stored: Any) -> FactProfile:
    """Return the profile of a fact description, or of a stored entry when ``stored`` is given."""
    dictionary = legal_dictionary(index)
    if stored is not None:
        meta = json.loads(stored.get("meta") or "{}")
        source = "\n".join(str(x) for x in (stored.get("title"), stored.get("summary"), meta.get("holding"),
                                             stored.get("body")) if x)
        return FactProfile(terms=key_terms(source, dictionary),
                           statutes=[k for k in (stored.get("statutes") or "").split(",") if k],
                           labels={label: NAMED_LABEL for label in document_labels(stored)})
    return profile_text(check_text(text), dictionary=dictionary, known_causes=_known_causes(engine))


def similar(index: SearchIndex, *, text: str | None = None, entry_id: str | None = None, limit: int = 30) -> list[SimilarHit]:
    """Return the rulings most similar to a fact description or to a stored entry, best first."""
    return search_similar(index, text=text, entry_id=entry_id, limit=limit).hits


def _rank(engine: Engine, profile: FactProfile, exclude: str | None) -> list[SimilarHit]:
    """Gather candidates by terms, statutes and cause; score them by the blend; return best first."""
    candidates, matched = _candidates(engine, profile)
    if not candidates:
        return []
    blend = _Blend(profile, _statute_weights(engine, profile.statutes, engine.state().doc_count),
                   max(candidates.values()) or 1.0)
    hits = []
    for docnum, raw in candidates.items():
        fields = engine.stored(docnum)
        if fields.get("id") != exclude:
            hits.append(blend.hit(fields, raw, matched.get(docnum, set())))
    hits.sort(key=lambda h: (-h.score, h.id))
    return hits


def _candidates(engine: Engine, profile: FactProfile) -> tuple[dict[int, float], dict[int, set[str]]]:
    """Return the candidate rulings with their text scores (0 for those found by statute or cause only), and the key terms each holds."""
    rulings = engine.match(RULINGS)
    candidates: dict[int, float] = {}
    matched: dict[int, set[str]] = {}
    if profile.terms:
        for score, docnum in _best(engine, _term_query(profile.terms), rulings):
            candidates[docnum] = score
        matched = _matched_terms(engine, [term for term, _weight in profile.terms], list(candidates))
    structural: list[Query] = [Term("statutes", key) for key in profile.statutes]
    structural += [Term("cause", name) for name in profile.causes]
    if structural:
        for _score, docnum in _best(engine, any_of(structural), rulings):
            candidates.setdefault(docnum, 0.0)
    return candidates, matched


def _best(engine: Engine, query: Query, rulings: np.ndarray) -> list[tuple[float, int]]:
    """Return the POOL best (score, ruling) of ``query``: posting arrays, else the engine's general search."""
    try:
        ids, scores = engine.score(query)
    except Unsupported:
        return [(found.score or 0.0, found.doc) for found in engine.search(query, limit=POOL, within=rulings)]
    keep = np.isin(ids, rulings, assume_unique=True)
    return engine.top(ids[keep], scores[keep], POOL)


def _matched_terms(engine: Engine, terms: list[str], docs: list[int]) -> dict[int, set[str]]:
    """Return, per document, the terms it holds in any text field."""
    matched: dict[int, set[str]] = {doc: set() for doc in docs}
    if not docs:
        return matched
    numbers = np.array(docs, dtype=np.int64)
    for term in terms:
        present = np.zeros(len(docs), dtype=bool)
        for name in TEXT_FIELDS:
            present |= engine.frequencies(name, term, numbers) > 0
        for i in np.flatnonzero(present).tolist():
            matched[docs[i]].add(term)
    return matched


class _Blend:
    """The blend of text, statute and label overlap that ranks similar rulings (weights above)."""

    def __init__(self, profile: FactProfile, statute_weights: dict[str, float], top_text: float) -> None:
        self.profile = profile
        self.statute_weights = statute_weights
        self.statute_total = sum(statute_weights.values())
        self.query_laws = {key.partition("#")[0] for key in profile.statutes}
        self.label_total = sum(profile.labels.values())
        self.term_weight = dict(profile.terms)
        self.top_text = top_text

    def statute_score(self, keys: set[str], shared: list[str]) -> float:
        """Return the share of the profile's articles the ruling cites (rarer ones weigh more; the same law counts a little)."""
        if not self.statute_total:
            return 0.0
        laws = {k.partition("#")[0] for k in keys}
        score = sum(self.statute_weights[k] for k in shared)
        score += SAME_LAW_CREDIT * sum(w for k, w in self.statute_weights.items() if k not in keys and k.partition("#")[0] in laws)
        return score / self.statute_total

    def label_score(self, shared_labels: list[str]) -> float:
        """Return the weight of the shared labels."""
        # A label named outright counts fully; one only implied by the facts (盗窃 in a fencing
        # case) cannot outweigh the terms, so the denominator is at least one named label.
        return sum(self.profile.labels[n] for n in shared_labels) / max(NAMED_LABEL, self.label_total)

    def hit(self, fields: dict[str, Any], raw: float, matched: set[str]) -> SimilarHit:
        """Return the ruling as a hit: its blended score and why it matched."""
        profile = self.profile
        keys = {k for k in (fields.get("statutes") or "").split(",") if k}
        shared = [k for k in profile.statutes if k in keys]
        laws = {k.partition("#")[0] for k in keys}
        same_law = sorted((self.query_laws & laws) - {k.partition("#")[0] for k in shared})
        statute_score = self.statute_score(keys, shared)
        labels = document_labels(fields) if profile.labels else set()
        shared_labels = [name for name in profile.labels if name in labels]
        label_score = self.label_score(shared_labels)
        text_score = raw / self.top_text
        score = TEXT_WEIGHT * text_score + STATUTE_WEIGHT * statute_score + LABEL_WEIGHT * label_score
        terms = sorted(matched, key=lambda t: (-self.term_weight.get(t, 0.0), t))
        return SimilarHit.from_stored(
            fields, score=round(score, 4),
            shared_labels=shared_labels, shared_statutes=shared, same_law=same_law,
            shared_terms=[t for t in terms if t in self.term_weight][:SHOWN_TERMS],
            snippet=fields.get("body") or fields.get("summary") or "",
            text_score=text_score, statute_score=statute_score, label_score=label_score,
        )

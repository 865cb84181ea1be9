"""The benchmark data sets: (a) content/, (b) + the imported statute corpus, (c) + generated rulings.

Heavy artefacts live in bench/out/ (git-ignored) and are reused by later runs:
``bench/out/statutes/`` (the corpus imported with kb.importers.lawrefbook) and
``bench/out/rulings/`` (50,000 generated rulings). The generator is seeded and deterministic: the
same seed gives byte-identical files, drawn from the statute text itself.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "out"
CONTENT = ROOT / "content"
CORPUS = Path(os.environ.get("KB_CORPUS", ROOT.parent / "shared" / "corpus" / "lawrefbook-laws"))
STATUTES = OUT / "statutes"
RULINGS = OUT / "rulings"
RULINGS_COUNT = 50_000
RULINGS_SEED = 5
RULING_BYTES = 2048

COURTS = ["北京互联网法院", "杭州互联网法院", "广州互联网法院", "北京市第四中级人民法院", "杭州市中级人民法院",
          "广州市中级人民法院", "上海市浦东新区人民法院", "深圳市南山区人民法院"]
COURT_CODES = {"北京互联网法院": "京0491", "杭州互联网法院": "浙0192", "广州互联网法院": "粤0192",
               "北京市第四中级人民法院": "京04", "杭州市中级人民法院": "浙01", "广州市中级人民法院": "粤01",
               "上海市浦东新区人民法院": "沪0115", "深圳市南山区人民法院": "粤0305"}
CAUSES = ["网络服务合同纠纷", "网络购物合同纠纷", "信息网络传播权纠纷", "名誉权纠纷", "隐私权纠纷", "个人信息保护纠纷",
          "不正当竞争纠纷", "著作权权属、侵权纠纷", "买卖合同纠纷", "小额借款合同纠纷"]
TAGS = ["刷单", "好评返现", "网络直播", "未成年人", "充值打赏", "个人信息", "电子证据", "区块链", "格式条款", "惩罚性赔偿",
        "平台责任", "通知删除", "数据爬取", "算法推荐", "网络游戏", "短视频", "外卖配送", "在线教育"]
FACT_OPENERS = ["原告诉称，", "被告辩称，", "经审理查明，", "本院认为，", "双方当事人对以下事实无争议：", "另查明，"]
NUMERALS = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十五", "二十", "三十"]
PARTIES = ["张某", "李某", "王某", "刘某", "陈某", "某科技公司", "某网络公司", "某电子商务公司", "某文化传媒公司"]


@dataclass(frozen=True)
class Scale:
    """One data set: its letter, what it holds and the content folders to index."""

    name: str
    label: str
    dirs: tuple[Path, ...]


def scales() -> dict[str, Scale]:
    """Return the three data sets by letter."""
    return {
        "a": Scale("a", "content/", (CONTENT,)),
        "b": Scale("b", "content/ + statute corpus", (CONTENT, STATUTES)),
        "c": Scale("c", f"(b) + {RULINGS_COUNT:,} generated rulings", (CONTENT, STATUTES, RULINGS)),
    }


def prepare(names: list[str], *, force: bool = False, log=print) -> None:  # type: ignore[no-untyped-def]
    """Create the folders the scales ``names`` need, unless they already exist (or ``force``)."""
    if any(n in ("b", "c") for n in names):
        ensure_statutes(force=force, log=log)
    if "c" in names:
        ensure_rulings(force=force, log=log)


def ensure_statutes(*, force: bool = False, log=print) -> Path:  # type: ignore[no-untyped-def]
    """Import the whole statute corpus into bench/out/statutes (once)."""
    from kb.importers.lawrefbook import import_corpus

    marker = STATUTES / ".complete"
    if marker.is_file() and not force:
        return STATUTES
    if not CORPUS.is_dir():
        raise SystemExit(f"the statute corpus is not at {CORPUS}; set KB_CORPUS to its folder.")
    shutil.rmtree(STATUTES, ignore_errors=True)
    started = time.perf_counter()
    report = import_corpus(CORPUS, STATUTES)
    info = {"converted": len(report.converted), "rejected": len(report.problems), "seconds": round(time.perf_counter() - started, 1)}
    marker.write_text(json.dumps(info), encoding="utf-8")
    log(f"imported the statute corpus: {info['converted']} entries, {info['rejected']} files rejected, {info['seconds']} s")
    return STATUTES


def statute_sentences(limit: int = 200_000) -> list[str]:
    """Return sentences of article text from the imported corpus, in a stable order."""
    sentences: list[str] = []
    article = re.compile(r"^第[〇零一二三四五六七八九十百千万两0-9]+条(?:之[一二三四五六七八九十]+)?\s+")
    for path in sorted(STATUTES.rglob("*.md")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not article.match(line):
                continue
            body = article.sub("", line)
            for sentence in re.split(r"(?<=[。；])", body):
                if 12 <= len(sentence) <= 160:
                    sentences.append(sentence)
            if len(sentences) >= limit:
                return sentences
    return sentences


def ruling_text(rng: random.Random, number: int, sentences: list[str], statute_titles: list[str]) -> str:
    """Return one generated ruling: valid front matter and a ~2 KB body of corpus sentences."""
    court = rng.choice(COURTS)
    year = rng.randint(2018, 2024)
    procedure = "二审" if len(COURT_CODES[court]) == 3 else rng.choice(["一审", "一审", "一审", "再审"])
    kind = "民终" if procedure == "二审" else ("民再" if procedure == "再审" else "民初")
    case_number = f"（{year}）{COURT_CODES[court]}{kind}{number}号"
    cause = rng.choice(CAUSES)
    plaintiff, defendant = rng.sample(PARTIES, 2)
    tags = rng.sample(TAGS, 3)
    cited = rng.sample(statute_titles, 2)
    articles = [rng.choice(NUMERALS) for _ in cited]
    title = f"{plaintiff}诉{defendant}{cause}案（生成第{number}号）"
    parts = [f"{plaintiff}与{defendant}{cause}一案，本院立案后依法适用{'普通' if rng.random() < 0.3 else '简易'}程序审理。"]
    while sum(len(p.encode()) for p in parts) < RULING_BYTES - 900:
        paragraph = rng.choice(FACT_OPENERS) + "".join(rng.choice(sentences) for _ in range(rng.randint(2, 4)))
        parts.append(paragraph)
    parts.append(f"依照《{cited[0]}》《{cited[1]}》的规定，判决如下：驳回{plaintiff}的其他诉讼请求。")
    front = [
        "---",
        f"id: gen-ruling-{number:05d}",
        "type: ruling",
        f"title: \"{title}\"",
        f"summary: \"{parts[1][:80]}\"",
        "tags:",
        *[f"  - {t}" for t in tags],
        f"court: {court}",
        f"case_number: \"{case_number}\"",
        f"decided_on: \"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}\"",
        f"cause: {cause}",
        f"procedure: {procedure}",
        f"authority: {rng.choice(['典型案例', '参考案例', '其他', '其他'])}",
        "statutes:",
        *[f"  - \"《{t}》第{n}条\"" for t, n in zip(cited, articles)],
        "---",
        "",
    ]
    return "\n".join(front) + "\n\n".join(parts) + "\n"


def ensure_rulings(*, force: bool = False, count: int = RULINGS_COUNT, seed: int = RULINGS_SEED, log=print) -> Path:  # type: ignore[no-untyped-def]
    """Write ``count`` generated rulings into bench/out/rulings (once per seed and count)."""
    marker = RULINGS / ".complete"
    wanted = {"count": count, "seed": seed, "bytes": RULING_BYTES}
    if marker.is_file() and not force and json.loads(marker.read_text(encoding="utf-8")).get("count") == count:
        return RULINGS
    ensure_statutes(log=log)
    started = time.perf_counter()
    shutil.rmtree(RULINGS, ignore_errors=True)
    sentences = statute_sentences()
    titles = sorted({p.stem.rsplit("-", 3)[0] for p in (STATUTES / "民法商法").glob("*.md")} |
                    {p.stem.rsplit("-", 3)[0] for p in (STATUTES / "经济法").glob("*.md")})
    rng = random.Random(seed)
    for number in range(1, count + 1):
        folder = RULINGS / f"{number // 1000:03d}"
        if number % 1000 in (0, 1):
            folder.mkdir(parents=True, exist_ok=True)
        (folder / f"gen-ruling-{number:05d}.md").write_text(ruling_text(rng, number, sentences, titles), encoding="utf-8")
    marker.write_text(json.dumps(wanted), encoding="utf-8")
    log(f"generated {count:,} rulings in {time.perf_counter() - started:.1f} s")
    return RULINGS

"""Similar-case benchmark: NDCG@10 of indexer.similar against plain BM25, in the same run, on the same index.

    .venv/bin/python bench/similar.py            # content/ + generated rulings, all queries
    .venv/bin/python bench/similar.py --per-query

The index holds content/ and rulings generated from bench/similar_cases.yaml (see its header).
Plain BM25 is Whoosh's BM25F over the same fields, an OR of every word the analyzer finds in the
facts, filtered to rulings: what a search engine does with a pasted paragraph. Ablations switch
parts of the similar-case ranking off to show what each part adds. Never part of the tests.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer import SearchIndex, build_index  # noqa: E402
from indexer import similar as sim  # noqa: E402
from indexer.analyzer import query_terms  # noqa: E402
from indexer.engine import Term, any_of  # noqa: E402

CASES = Path(__file__).with_name("similar_cases.yaml")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
COURTS = [("浙", "0110", "杭州市余杭区人民法院"), ("京", "0105", "北京市朝阳区人民法院"), ("沪", "0115", "上海市浦东新区人民法院"),
          ("粤", "0106", "广州市天河区人民法院"), ("苏", "0102", "南京市玄武区人民法院"), ("川", "0104", "成都市锦江区人民法院")]
K = 10


def person(rng: random.Random) -> str:
    """Return an anonymised name as judgments write them (王某某)."""
    return rng.choice(SURNAMES) + rng.choice(["某", "某某"])


def generate(cases: dict, folder: Path) -> tuple[list[dict], dict[str, dict]]:
    """Write the generated rulings below ``folder``; return the generated queries and each ruling's topic."""
    spec = cases["synthetic"]
    rng = random.Random(spec["seed"])
    topics = spec["topics"]
    fillers = spec["fillers"]
    rulings: dict[str, dict] = {}
    sequence = 0
    for topic in topics:
        criminal = "charge" in topic
        for n in range(spec["rulings_per_topic"]):
            sequence += 1
            province, code, court = rng.choice(COURTS)
            year = rng.choice(range(2016, 2025))
            who, victim = person(rng), person(rng)
            other = rng.choice([t for t in topics if t["id"] != topic["id"]])
            facts = rng.sample(topic["facts"], k=min(3, len(topic["facts"]))) + rng.sample(fillers, k=2) + [rng.choice(other["facts"])]
            rng.shuffle(facts)
            money = rng.randrange(2, 900) * 100
            label = topic["charge"] if criminal else topic["cause"]
            stem = label.removesuffix("罪")
            if criminal:
                title = f"{who}{stem}一审刑事判决书"
                body = (f"公诉机关{court.replace('人民法院', '人民检察院')}指控被告人{who}犯{label}，于{year}年提起公诉。本院依法组成合议庭，"
                        f"公开开庭审理了本案。\n\n经审理查明：{year - 1}年{rng.randrange(1, 13)}月，被告人{who}"
                        + "；".join(facts) + f"，涉案金额人民币{money}元。被害人{victim}报案后，公安机关将{who}抓获。\n\n"
                        f"本院认为，被告人{who}的行为已构成{label}。公诉机关指控的罪名成立。依照{topic['statute']}之规定，判决如下：\n\n"
                        f"被告人{who}犯{label}，判处有期徒刑{rng.randrange(1, 8)}年，并处罚金人民币{rng.randrange(1, 50) * 1000}元。")
                type_code = "刑初"
            else:
                title = f"{victim}与{who}{label}一审民事判决书"
                body = (f"原告{victim}与被告{who}{label}一案，本院于{year}年立案后，依法适用普通程序公开开庭进行了审理。\n\n"
                        f"原告{victim}诉称：" + "；".join(facts) + f"。请求判令被告赔偿损失{money}元。\n\n被告{who}辩称，不同意原告的诉讼请求。\n\n"
                        f"本院认为，本案系{label}。依照{topic['statute']}之规定，判决如下：被告{who}于本判决生效之日起十日内赔偿原告{victim}{money // 2}元。")
                type_code = "民初"
            entry_id = f"synth-{topic['id']}-{n:02d}"
            front = {"type": "ruling", "title": title, "court": court, "case_number": f"（{year}）{province}{code}{type_code}{sequence}号",
                     "decided_on": f"{year}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}", "procedure": "一审",
                     "statutes": [topic["statute"]]}
            if not criminal:
                front["cause"] = label
            path = folder / "rulings" / f"{entry_id}.md"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("---\n" + yaml.safe_dump(front, allow_unicode=True, sort_keys=False) + "---\n" + body + "\n", encoding="utf-8")
            rulings[entry_id] = topic
    queries = []
    for topic in topics:
        for n in range(spec["queries_per_topic"]):
            who = person(rng)
            facts = rng.sample(topic["facts"], k=min(4, len(topic["facts"]))) + rng.sample(fillers, k=2)
            if rng.random() < 0.5:
                other = rng.choice([t for t in topics if t["id"] != topic["id"]])
                facts.append(rng.choice(other["facts"]))
            rng.shuffle(facts)
            text = f"{rng.choice(range(2019, 2025))}年{rng.randrange(1, 13)}月以来，{who}" + "；".join(facts) + "。"
            relevant = {rid: (2 if t["id"] == topic["id"] else 1) for rid, t in rulings.items() if t["family"] == topic["family"]}
            queries.append({"id": f"s-{topic['id']}-{n}", "facts": text, "relevant": relevant})
    return queries, rulings


def bm25(index: SearchIndex, text: str, limit: int = K) -> list[str]:
    """Return the ids plain BM25 ranks first: an OR of every analysed word, rulings only."""
    engine = index.engine()
    words = query_terms(text)
    query = any_of([any_of([Term(f, w) for f in sim.TEXT_FIELDS]) for w in words])
    return [found.get("id") for found in engine.search(query, limit=limit, within=engine.match(sim.RULINGS))]


def ranked_similar(index: SearchIndex, text: str, limit: int = K) -> list[str]:
    """Return the ids the similar-case ranking puts first."""
    return [hit.id for hit in sim.similar(index, text=text, limit=limit)]


def ndcg(ranking: list[str], relevant: dict[str, int], k: int = K) -> float:
    """Return NDCG@k with gains 2^grade - 1."""
    dcg = sum((2 ** relevant.get(doc, 0) - 1) / math.log2(i + 2) for i, doc in enumerate(ranking[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


class Ablation:
    """Temporarily set module weights of indexer.similar."""

    def __init__(self, **weights: float) -> None:
        self.weights = weights
        self.saved: dict[str, float] = {}

    def __enter__(self) -> None:
        for name, value in self.weights.items():
            self.saved[name] = getattr(sim, name)
            setattr(sim, name, value)

    def __exit__(self, *exc: object) -> None:
        for name, value in self.saved.items():
            setattr(sim, name, value)


def main(argv: list[str] | None = None) -> int:
    """Build the benchmark index, run every query with each method, print NDCG@10."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-query", action="store_true", help="print each query's NDCG@10")
    args = parser.parse_args(argv)
    cases = yaml.safe_load(CASES.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        synth = Path(tmp) / "synthetic"
        queries, rulings = generate(cases, synth)
        started = time.perf_counter()
        report = build_index([ROOT / "content", synth], Path(tmp) / "index", clean=True)
        print(f"index: {report.entries} entries ({len(rulings)} generated rulings) in {time.perf_counter() - started:.1f} s")
        index = SearchIndex(Path(tmp) / "index")
        content_queries = [{"id": q["id"], "facts": " ".join(q["facts"].split()), "relevant": q["relevant"]} for q in cases["content_queries"]]
        sets = {"content": content_queries, "synthetic": queries}
        methods = {
            "plain BM25": lambda text: bm25(index, text),
            "similar: key terms only": None,
            "similar: full": lambda text: ranked_similar(index, text),
        }
        scores: dict[str, dict[str, list[float]]] = {}
        timings: dict[str, float] = {}
        for method, run in methods.items():
            scores[method] = {}
            started = time.perf_counter()
            for set_name, items in sets.items():
                values = []
                for q in items:
                    if run is None:
                        with Ablation(STATUTE_WEIGHT=0.0, LABEL_WEIGHT=0.0):
                            ranking = ranked_similar(index, q["facts"])
                    else:
                        ranking = run(q["facts"])
                    values.append(ndcg(ranking, q["relevant"]))
                    if args.per_query:
                        print(f"  {method:26} {q['id']:18} {values[-1]:.3f}")
                scores[method][set_name] = values
            timings[method] = (time.perf_counter() - started) / sum(len(v) for v in sets.values()) * 1000
        print(f"\nNDCG@{K} (mean over queries)")
        print(f"{'method':26} " + " ".join(f"{name + f' ({len(items)})':>16}" for name, items in sets.items()) + f"{'all':>8}{'ms/query':>10}")
        for method, by_set in scores.items():
            every = [v for values in by_set.values() for v in values]
            row = " ".join(f"{sum(v) / len(v):16.3f}" for v in by_set.values())
            print(f"{method:26} {row}{sum(every) / len(every):8.3f}{timings[method]:10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

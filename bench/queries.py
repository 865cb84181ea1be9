"""The fixed list of 200 mixed queries the latency benchmarks replay (bench/queries.json).

``python -m bench.queries`` rewrites bench/queries.json from the seeded mix below; the file is
committed so every run, on every machine, replays the same 200 queries in the same order.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

FILE = Path(__file__).resolve().parent / "queries.json"
SEED = 20240505

KEYWORDS = [
    "刷单", "好评返现", "举证责任", "个人信息", "惩罚性赔偿", "格式条款", "电子数据", "信息网络传播权", "不正当竞争",
    "未成年人", "直播打赏", "游戏充值", "公序良俗", "合同无效", "三倍赔偿", "网络购物", "通知删除", "区块链", "著作权",
    "名誉权", "隐私权", "肖像权", "行政处罚", "行政复议", "劳动合同", "工伤", "土地承包", "食品安全", "环境保护",
    "税收", "婚姻", "继承", "抵押", "担保", "诉讼时效", "管辖", "仲裁", "证据保全", "电子签名", "网络安全",
    "合同 违约金", "消费者 欺诈", "平台 责任", "数据 安全", "个人信息 处理者", "行政 许可", "道路 交通 事故",
    "安全生产", "物业服务", "城乡规划", "野生动物", "网约车", "外卖", "快递", "医疗损害", "商标", "专利", "反垄断",
    "招标投标", "政府采购",
]
QUESTIONS = [
    "网购买到假货怎么办", "孩子偷偷给主播打赏的钱能要回来吗", "商家让我好评返现合法吗", "公司不签劳动合同怎么赔偿",
    "被网上造谣诽谤怎么起诉", "快递丢了平台要不要赔", "外卖平台乱收配送费可以告吗", "我的照片被别人拿去做广告怎么办",
    "房东不退押金怎么办", "借钱不还可以去哪个法院起诉", "网贷利息太高了是否合法", "游戏账号被封了充值能退吗",
    "在线课程不想上了能退费吗", "个人信息被泄露了找谁", "出了交通事故对方全责怎么赔", "离婚时房子怎么分",
    "老人去世没有遗嘱房子归谁", "被公司辞退有没有补偿", "买到过期食品能赔十倍吗", "直播带货卖假货主播要担责吗",
    "网上发的文章被抄袭了怎么维权", "电子合同有法律效力吗", "聊天记录能当证据吗", "区块链存证法院认不认",
    "互联网法院怎么立案", "未成年人充值游戏可以退款吗", "视频网站会员超前点播合法吗", "二手平台买到翻新机怎么办",
    "app过度收集个人信息违法吗", "刷单被骗了钱能追回来吗",
]
CASE_NUMBERS = ["（2019）京0491民初2547号", "(2019)京0491民初2547号", "〔2018〕京0491民初239号", "（2021）京04民终407号",
                "（2021）京73民终2496号", "（2022）粤0192民初17号", "（2020）浙0192民初1234号", "2019京0491民初2547号"]
FILTERS = [
    {"type": "statute"}, {"type": "ruling"}, {"type": "guideline"}, {"level": "法律"}, {"level": "行政法规"},
    {"level": "地方性法规"}, {"level": "司法解释"}, {"court": "北京互联网法院"}, {"year": "2021"}, {"procedure": "一审"},
    {"kind": "article"}, {"type": "statute", "level": "法律"},
]
# Sentences of statute text (and of the kind rulings repeat) for the 400-character fact paragraphs.
FACT_SENTENCES = [
    "原告在被告经营的网络店铺购买商品，收到后发现商品与宣传不符，商家在包裹中放入好评返现卡片，诱导原告给予好评。",
    "被告辩称其仅为网络服务提供者，已经尽到合理注意义务，在接到通知后及时删除了涉嫌侵权的内容，不应承担赔偿责任。",
    "原告之子系未成年人，在未经监护人同意的情况下，使用原告的手机账户在直播平台多次充值并打赏主播，金额共计三万余元。",
    "双方签订网络服务合同，约定由被告通过技术手段为原告的移动应用提升访问量，原告按点击量向被告支付服务费用。",
    "经审理查明，被告未经原告许可，在其运营的视频网站上向公众提供涉案作品的在线播放服务，原告遂以侵害信息网络传播权为由提起诉讼。",
    "原告主张被告收集其个人信息超出必要范围，且未告知处理目的和方式，违反了个人信息保护法的规定，请求停止侵害并赔礼道歉。",
    "外卖平台在用户下单时显示的配送费与实际结算金额存在差额，原告认为平台的格式条款排除了消费者的主要权利。",
    "被告在社交平台发布多篇文章，称原告公司产品存在严重质量问题，相关内容被大量转发，原告认为其名誉受到损害。",
    "原告提交了经可信时间戳认证的网页截图和录屏文件作为证据，被告对证据的真实性提出异议，认为电子数据可能被篡改。",
    "本院认为，当事人对自己提出的诉讼请求所依据的事实，有责任提供证据加以证明，未能提供证据的，应当承担不利后果。",
]


def make_queries() -> list[dict]:
    """Return the 200 queries: keywords, questions, case numbers, long facts, filters and pages 1-5."""
    rng = random.Random(SEED)
    items: list[dict] = []
    for word in KEYWORDS:  # 60 short keywords
        items.append({"kind": "keyword", "q": word})
    for question in QUESTIONS:  # 30 colloquial questions
        items.append({"kind": "question", "q": question})
    for number in CASE_NUMBERS:  # 8 case numbers
        items.append({"kind": "case_number", "q": number})
    for _ in range(10):  # 10 fact paragraphs of ~400 characters
        text = ""
        while len(text) < 400:
            text += rng.choice(FACT_SENTENCES)
        items.append({"kind": "facts", "q": text[:400]})
    for i in range(48):  # 48 filtered searches (a few with an empty query: browse by facet)
        q = "" if i % 8 == 7 else rng.choice(KEYWORDS + QUESTIONS[:10])
        items.append({"kind": "filter", "q": q, "filters": dict(FILTERS[i % len(FILTERS)])})
    for i in range(44):  # 44 deeper pages, 2 to 5
        items.append({"kind": "page", "q": rng.choice(KEYWORDS), "page": 2 + i % 4})
    assert len(items) == 200, len(items)
    rng.shuffle(items)
    return items


def load_queries() -> list[dict]:
    """Return the committed query list."""
    return json.loads(FILE.read_text(encoding="utf-8"))


if __name__ == "__main__":
    FILE.write_text(json.dumps(make_queries(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {FILE}")

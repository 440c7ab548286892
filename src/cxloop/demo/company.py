"""The demo company, 禾光生活 (Heguang Living): a fictional Taiwanese omnichannel retailer.

Fixed facts only (stores, products, people, the planted patterns); the random draws live
in :mod:`cxloop.demo.generator`. docs/en/demo.md describes the same facts for readers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

COMPANY_ZH = "禾光生活"
COMPANY_EN = "Heguang Living"

#: The two years the data covers (fixed, so that the output is deterministic).
START = date(2024, 11, 1)
END = date(2026, 10, 31)

# The four planted patterns (docs/en/demo.md, "Planted patterns").
#: Home deliveries slower than this many days are late and drive detractors.
LATE_AFTER_DAYS = 3
#: Share of customers who stop buying after their first late home delivery.
LAPSE_AFTER_LATE = 0.4
#: Share of a customer's orders that come from their favourite product category.
TASTE = 0.6
#: Orders drawn per order wanted, to make up for the ones lapsed customers never place.
ORDER_DRAWS = 1.15
#: The store whose staff attitude is poor: lower CSAT and NPS, comments about 店員態度.
RUDE_STORE = "台中公益店"
#: The month of the price rise: NPS drops across channels (comments about 漲價).
PRICE_CHANGE_MONTH = "2025-09"
#: Prices are this much higher from the first day of PRICE_CHANGE_MONTH on.
PRICE_RISE = 0.08
#: The day a new app login (SMS code) ships: app effort (CES) rises from here on.
APP_LOGIN_ISSUE_FROM = date(2026, 3, 1)


@dataclass(frozen=True)
class Store:
    name: str
    region: str
    weight: float


STORES: tuple[Store, ...] = (
    Store("台北信義店", "北部", 0.26),
    Store("台北南港店", "北部", 0.18),
    Store("新北板橋店", "北部", 0.22),
    Store("桃園中壢店", "北部", 0.18),
    Store("新竹竹北店", "北部", 0.16),
    Store(RUDE_STORE, "中部", 0.42),
    Store("台中逢甲店", "中部", 0.33),
    Store("彰化員林店", "中部", 0.25),
    Store("台南中西店", "南部", 0.30),
    Store("高雄巨蛋店", "南部", 0.40),
    Store("高雄左營店", "南部", 0.30),
    Store("花蓮中華店", "東部", 1.00),
)

REGIONS: tuple[tuple[str, float], ...] = (
    ("北部", 0.45),
    ("中部", 0.25),
    ("南部", 0.25),
    ("東部", 0.05),
)

# Touchpoints that are not stores.
WEB_SHOP = "網路商店"
APP = "App"
HOME_DELIVERY = "宅配"
STORE_PICKUP = "超商取貨"
CALL_CENTRE = "客服中心"
LIVE_CHAT = "線上客服"
LINE_CHAT = "LINE 官方帳號"
SERVICE_MAIL = "客服信箱"
MEMBER_SURVEY = "會員滿意度調查"
SOCIAL_PAGES: tuple[str, ...] = ("Facebook 粉絲專頁", "Instagram", "Threads")
REVIEW_SITE = "Google 地圖評論"


@dataclass(frozen=True)
class Product:
    name: str
    category: str
    price: int  # TWD, before PRICE_RISE
    weight: float


PRODUCTS: tuple[Product, ...] = (
    Product("不沾平底鍋 28cm", "廚房用品", 1280, 0.07),
    Product("真空保溫瓶 500ml", "廚房用品", 790, 0.09),
    Product("氣炸鍋 5L", "廚房家電", 3490, 0.05),
    Product("無線吸塵器", "居家家電", 9990, 0.03),
    Product("空氣清淨機", "居家家電", 7990, 0.03),
    Product("除濕機 12L", "居家家電", 8490, 0.03),
    Product("DC 節能風扇", "居家家電", 2490, 0.05),
    Product("記憶枕", "寢具", 1490, 0.06),
    Product("涼感被", "寢具", 1890, 0.05),
    Product("抗菌浴巾", "寢具", 390, 0.07),
    Product("收納箱 3 入", "收納", 499, 0.09),
    Product("防滑衣架 20 入", "收納", 299, 0.08),
    Product("洗衣精補充包", "清潔用品", 229, 0.12),
    Product("廚房紙巾 6 捲", "清潔用品", 159, 0.12),
    Product("香氛蠟燭", "生活雜貨", 580, 0.06),
)

SEGMENTS: tuple[tuple[str, float], ...] = (
    ("家庭", 0.38),
    ("上班族", 0.32),
    ("學生", 0.12),
    ("銀髮族", 0.10),
    ("企業採購", 0.08),
)

#: Member tiers from the most to the least active customers, with their shares.
TIERS: tuple[tuple[str, float], ...] = (
    ("鑽石", 0.05),
    ("金卡", 0.15),
    ("銀卡", 0.30),
    ("一般", 0.50),
)

SURNAMES: tuple[tuple[str, str, float], ...] = (
    ("陳", "chen", 11.1),
    ("林", "lin", 8.3),
    ("黃", "huang", 6.0),
    ("張", "chang", 5.3),
    ("李", "lee", 5.1),
    ("王", "wang", 4.1),
    ("吳", "wu", 4.0),
    ("劉", "liu", 3.2),
    ("蔡", "tsai", 2.9),
    ("楊", "yang", 2.7),
    ("許", "hsu", 2.3),
    ("鄭", "cheng", 1.9),
    ("謝", "hsieh", 1.8),
    ("洪", "hung", 1.5),
    ("郭", "kuo", 1.5),
    ("邱", "chiu", 1.4),
    ("曾", "tseng", 1.4),
    ("廖", "liao", 1.3),
    ("賴", "lai", 1.3),
    ("周", "chou", 1.1),
)

GIVEN_FEMALE: tuple[tuple[str, str], ...] = (
    ("怡君", "yichun"), ("雅婷", "yating"), ("佳穎", "chiaying"), ("淑芬", "shufen"),
    ("欣怡", "hsinyi"), ("美玲", "meiling"), ("詩涵", "shihhan"), ("宜蓁", "yichen"),
    ("筱涵", "hsiaohan"), ("家瑜", "chiayu"), ("郁婷", "yuting"), ("惠雯", "huiwen"),
    ("品妤", "pinyu"), ("子晴", "tzuching"), ("心怡", "hsinyi"), ("玉珍", "yuchen"),
)  # fmt: skip

GIVEN_MALE: tuple[tuple[str, str], ...] = (
    ("志明", "chihming"), ("家豪", "chiahao"), ("俊傑", "chunchieh"), ("建宏", "chienhung"),
    ("冠宇", "kuanyu"), ("承恩", "chengen"), ("宗翰", "tsunghan"), ("彥廷", "yenting"),
    ("柏翰", "pohan"), ("文雄", "wenhsiung"), ("國華", "kuohua"), ("明哲", "mingche"),
    ("育誠", "yucheng"), ("宇軒", "yuhsuan"), ("哲瑋", "chewei"), ("信宏", "hsinhung"),
)  # fmt: skip

ENGLISH_FIRST: tuple[tuple[str, str], ...] = (
    ("Emily", "F"), ("Sarah", "F"), ("Grace", "F"), ("Anna", "F"), ("Laura", "F"),
    ("James", "M"), ("Daniel", "M"), ("Michael", "M"), ("Kevin", "M"), ("Thomas", "M"),
)  # fmt: skip

ENGLISH_LAST: tuple[str, ...] = (
    "Smith", "Johnson", "Brown", "Miller", "Wilson", "Taylor", "Anderson", "Martin",
    "Nguyen", "Tanaka", "Müller", "Dubois",
)  # fmt: skip

#: Reserved example domains (RFC 2606): demo addresses never reach a real mailbox.
EMAIL_DOMAINS: tuple[str, ...] = ("example.com", "example.net", "example.org")

#: Support teams and the agents who own cases in each.
TEAMS: dict[str, tuple[str, ...]] = {
    "物流配送組": ("林佩君", "張家銘", "Amy Lo"),
    "門市營運組": ("陳雅雯", "黃建志"),
    "數位服務組": ("吳思妤", "李冠廷", "Brian Hsu"),
    "客服中心": ("蔡宛蓉", "許志豪", "鄭美華", "Cindy Wang"),
    "價格與會員組": ("劉怡萱", "楊宗憲"),
}

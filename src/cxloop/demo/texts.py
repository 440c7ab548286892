"""Free-text templates of the demo company: survey comments and interaction texts.

Each topic has sentences in Traditional Chinese (``zh-TW``), English (``en``) and, for a
few topics, Simplified Chinese (``zh-CN``, from visitors). Slots: ``{days}`` (delivery
days), ``{store}`` (a store name), ``{product}`` (a product name).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Templates = dict[str, tuple[str, ...]]

TOPICS: dict[str, Templates] = {
    "delivery_late": {
        "zh-TW": (
            "配送遲到了{days}天，等了好久才收到。",
            "宅配比預計晚了{days}天，也沒有人主動通知。",
            "說好三天內到貨，結果拖了{days}天，配送太慢了。",
            "訂單一直顯示配送中，遲到{days}天才到，很失望。",
            "物流延遲太誇張，{product}晚了{days}天才送到。",
            "配送時間一延再延，打去問也只說在路上。",
        ),
        "en": (
            "Delivery was {days} days late and nobody told me.",
            "My {product} arrived {days} days after the promised date.",
            "The parcel was stuck 'in delivery' for days. Very slow shipping.",
        ),
        "zh-CN": ("快递晚了{days}天才到，配送太慢了。",),
    },
    "delivery_fast": {
        "zh-TW": (
            "隔天就到貨，包裝也很完整。",
            "配送很快，司機很有禮貌。",
            "出貨速度快，{product}包得很好。",
            "比預期早到，很滿意。",
        ),
        "en": (
            "Fast delivery and careful packaging.",
            "Arrived the next day, well packed.",
        ),
    },
    "staff_rude": {
        "zh-TW": (
            "{store}的店員態度很差，問問題愛理不理。",
            "結帳時店員臉很臭，還不耐煩地催我。",
            "店員態度冷淡，找不到商品也不願意幫忙。",
            "在{store}被店員大聲講話，服務態度需要加強。",
            "店員只顧著聊天，叫了好幾次都沒人理。",
        ),
        "en": (
            "Staff at {store} were rude and ignored my questions.",
            "The cashier was impatient and unfriendly.",
        ),
        "zh-CN": ("店员态度很差，问问题也不理人。",),
    },
    "staff_friendly": {
        "zh-TW": (
            "店員很親切，主動幫我找{product}。",
            "{store}的服務人員很專業，解說清楚。",
            "店員態度很好，結帳也很快。",
            "門市人員熱心介紹，逛起來很舒服。",
        ),
        "en": (
            "Friendly staff at {store}, they helped me find the {product}.",
            "Helpful and polite staff.",
        ),
    },
    "price_rise": {
        "zh-TW": (
            "最近漲價漲太多了，{product}貴了不少。",
            "價格調漲後覺得不划算，考慮去別家買。",
            "同樣的東西突然變貴，漲價也沒有事先說明。",
            "價格越來越高，會員折扣也沒有增加。",
            "漲價後CP值變低了。",
        ),
        "en": (
            "Prices went up a lot this month, the {product} is now too expensive.",
            "The price increase makes it hard to justify shopping here.",
        ),
        "zh-CN": ("最近涨价太多了，不太划算。",),
    },
    "app_login": {
        "zh-TW": (
            "App 一直登入失敗，驗證碼收不到。",
            "每次登入都要重新輸入簡訊驗證碼，很麻煩。",
            "更新後 App 登入不了，只好改用網頁。",
            "驗證碼過期太快，登入要試好幾次。",
            "換手機後 App 無法登入，客服也說不清楚。",
        ),
        "en": (
            "Cannot log in to the app, the SMS code never arrives.",
            "Logging in takes several tries since the update, the verification code expires.",
        ),
        "zh-CN": ("App 登录不了，验证码一直收不到。",),
    },
    "app_easy": {
        "zh-TW": (
            "App 很好用，結帳很快。",
            "用 App 下單很方便，點數也查得到。",
            "介面清楚，找商品很快。",
        ),
        "en": ("The app is easy to use and checkout is quick.",),
    },
    "support_good": {
        "zh-TW": (
            "客服人員很有耐心，一次就幫我解決。",
            "客服回覆很快，處理得很好。",
            "電話很快接通，退貨流程說明清楚。",
        ),
        "en": ("Support solved my problem on the first call.",),
    },
    "support_slow": {
        "zh-TW": (
            "客服電話一直打不進去，等了二十分鐘。",
            "問題反映了好幾次都沒有下文。",
            "線上客服回覆很慢，問題還是沒解決。",
        ),
        "en": ("Waited on hold for twenty minutes and still no answer.",),
    },
    "product_good": {
        "zh-TW": (
            "{product}品質很好，用起來很滿意。",
            "東西實用，價格合理。",
            "商品跟描述一樣，會再回購。",
        ),
        "en": ("Good quality {product}, worth the price.",),
    },
    "product_defect": {
        "zh-TW": (
            "{product}用沒幾次就壞了。",
            "收到的商品有瑕疵，退換貨很麻煩。",
            "品質不如預期，有點失望。",
        ),
        "en": ("The {product} broke after a week.",),
    },
    "neutral": {
        "zh-TW": (
            "整體還可以。",
            "普通，沒有特別好或不好。",
            "商品選擇多，但有些缺貨。",
            "希望週末結帳的人可以少一點。",
        ),
        "en": ("It was okay.", "Fine overall, some items were out of stock."),
    },
}

#: Topics whose sentences are negative (the rest are positive or neutral).
NEGATIVE_TOPICS = frozenset(
    {
        "delivery_late",
        "staff_rude",
        "price_rise",
        "app_login",
        "support_slow",
        "product_defect",
    }
)


def pick_languages(
    rng: np.random.Generator, customer_language: npt.NDArray[np.str_]
) -> npt.NDArray[np.str_]:
    """The language each text is written in, from its writer's language.

    English speakers write English 85 % of the time; the others write Traditional
    Chinese, with 3 % English and 2 % Simplified Chinese.
    """
    u = rng.random(len(customer_language))
    english = customer_language == "en"
    return np.where(
        english,
        np.where(u < 0.85, "en", "zh-TW"),
        np.where(u < 0.03, "en", np.where(u < 0.05, "zh-CN", "zh-TW")),
    )


def resolve_language(topic: str, language: str) -> str:
    """``language`` when ``topic`` has sentences in it, otherwise ``zh-TW``."""
    return language if language in TOPICS[topic] else "zh-TW"


def sentence(
    rng: np.random.Generator,
    topic: str,
    language: str,
    *,
    days: int = 0,
    store: str = "",
    product: str = "",
) -> str:
    """One sentence about ``topic`` in ``language`` (see :func:`resolve_language`)."""
    templates = TOPICS[topic][resolve_language(topic, language)]
    template = templates[int(rng.integers(len(templates)))]
    return template.format(days=days, store=store, product=product)


# Frames of the texts of interactions that are not survey answers.
FRAMES: dict[str, dict[str, str]] = {
    "call": {
        "zh-TW": "來電反映：{body}",
        "en": "Caller says: {body}",
        "zh-CN": "来电反映：{body}",
    },
    "chat": {
        "zh-TW": "顧客：{body}\n客服：已為您記錄，將儘快處理。",
        "en": "Customer: {body}\nAgent: Noted, we will look into it.",
        "zh-CN": "顾客：{body}\n客服：已为您记录。",
    },
    "ticket": {
        "zh-TW": "主旨：顧客意見\n{body}",
        "en": "Subject: feedback\n{body}",
        "zh-CN": "主题：顾客意见\n{body}",
    },
    "review": {"zh-TW": "{body}", "en": "{body}", "zh-CN": "{body}"},
    "social_post": {
        "zh-TW": "{body} #禾光生活",
        "en": "{body} #HeguangLiving",
        "zh-CN": "{body}",
    },
}


def framed(kind: str, language: str, body: str) -> str:
    """``body`` inside the frame of an interaction ``kind`` (a call note, a chat...)."""
    frames = FRAMES[kind]
    return (frames.get(language) or frames["zh-TW"]).format(body=body)

"""Accepted spellings of each controlled vocabulary: the values, case-insensitive, and
common zh-TW (and a few English) aliases that exports use."""

from __future__ import annotations

from enum import StrEnum

from cxloop.domain.vocab import (
    CaseKind,
    CasePriority,
    CaseStatus,
    Channel,
    InteractionKind,
    JourneyStage,
    RootCause,
    TransactionKind,
)

ALIASES: dict[type[StrEnum], dict[str, str]] = {
    Channel: {
        "網站": "web", "官網": "web", "網頁": "web", "website": "web", "online": "web",
        "應用程式": "app", "手機app": "app", "mobile": "app", "mobile app": "app",
        "電子郵件": "email", "郵件": "email", "e-mail": "email", "mail": "email",
        "電話": "phone", "客服專線": "phone", "客服電話": "phone", "call center": "phone",
        "線上客服": "chat", "即時通訊": "chat", "聊天": "chat", "line": "chat",
        "live chat": "chat", "門市": "store", "實體店": "store", "店面": "store",
        "shop": "store", "社群": "social", "社群媒體": "social", "facebook": "social",
        "評論網站": "review_site", "評論": "review_site", "review site": "review_site",
        "review": "review_site", "其他": "other",
    },
    JourneyStage: {
        "認識": "discover", "探索": "discover", "評估": "evaluate", "比較": "evaluate",
        "購買": "purchase", "結帳": "purchase", "配送": "delivery", "出貨": "delivery",
        "到貨": "delivery", "使用": "use", "客服": "support", "支援": "support",
        "售後": "support", "續約": "renew_leave", "離開": "renew_leave",
        "續約/離開": "renew_leave", "renew": "renew_leave", "leave": "renew_leave",
        "renew/leave": "renew_leave",
    },
    InteractionKind: {
        "問卷": "survey_response", "問卷回覆": "survey_response", "survey": "survey_response",
        "工單": "ticket", "客服單": "ticket", "購買": "purchase", "通話": "call",
        "電話": "call", "對話": "chat", "聊天": "chat", "評論": "review",
        "社群貼文": "social_post", "貼文": "social_post", "來店": "visit", "造訪": "visit",
        "其他": "other",
    },
    TransactionKind: {
        "購買": "purchase", "消費": "purchase", "sale": "purchase", "order": "purchase",
        "退款": "refund", "退貨": "refund", "return": "refund",
    },
    CaseStatus: {
        "新": "new", "新建": "new", "待處理": "new", "open": "new", "處理中": "in_progress",
        "進行中": "in_progress", "in progress": "in_progress",
        "等待客戶": "waiting_on_customer", "待客戶回覆": "waiting_on_customer",
        "pending": "waiting_on_customer", "已解決": "resolved", "已結案": "closed",
        "結案": "closed", "關閉": "closed",
    },
    CasePriority: {
        "低": "low", "一般": "normal", "普通": "normal", "中": "normal", "medium": "normal",
        "高": "high", "緊急": "urgent", "critical": "urgent",
    },
    CaseKind: {
        "客訴": "complaint", "抱怨": "complaint", "貶損者": "detractor",
        "流失風險": "at_risk", "at risk": "at_risk", "需求": "request", "請求": "request",
    },
    RootCause: {
        "價值": "value", "價格": "value", "系統": "system", "流程": "system",
        "人員": "people", "服務人員": "people",
    },
}  # fmt: skip


def spellings(vocabulary: type[StrEnum]) -> dict[str, str]:
    """Every accepted spelling (lower-cased) of ``vocabulary`` mapped to its value.

    >>> spellings(Channel)["門市"]
    'store'
    >>> spellings(Channel)["review site"]
    'review_site'
    """
    table = {member.value: member.value for member in vocabulary}
    table.update(
        {member.value.replace("_", " "): member.value for member in vocabulary}
    )
    table.update({alias.lower(): value for alias, value in ALIASES[vocabulary].items()})
    return table


def allowed(vocabulary: type[StrEnum]) -> str:
    """The values of ``vocabulary`` as a reader-friendly list."""
    return ", ".join(member.value for member in vocabulary)

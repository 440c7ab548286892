"""Translated labels for the controlled vocabularies shown in the pages.

Only known values get a label; any other value (customer data) is shown as it is and
escaped by the template, never passed through gettext.
"""

from __future__ import annotations

import gettext

from cxloop.web.i18n import N_

CHANNELS: dict[str, str] = {
    "web": N_("Website"),
    "app": N_("App"),
    "email": N_("Email"),
    "phone": N_("Phone"),
    "chat": N_("Chat"),
    "store": N_("Store"),
    "social": N_("Social media"),
    "review_site": N_("Review site"),
    "other": N_("Other"),
}

METRICS: dict[str, str] = {
    "nps": N_("Net Promoter Score"),
    "csat": N_("Customer satisfaction"),
    "ces": N_("Customer effort"),
}

FIELDS: dict[str, str] = {
    "channel": N_("Channel"),
    "touchpoint": N_("Touchpoint"),
}

_VOCABULARIES = {"channel": CHANNELS, "metric": METRICS, "field": FIELDS}


def label(translations: gettext.NullTranslations, kind: str, value: str | None) -> str:
    """The translated label of a known ``value`` of ``kind``; the value itself otherwise."""
    if value is None:
        return translations.gettext("(none)")
    msgid = _VOCABULARIES.get(kind, {}).get(value)
    return translations.gettext(msgid) if msgid is not None else value

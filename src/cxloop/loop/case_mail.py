"""The e-mail an agent's reply on a case becomes (plain text and HTML, zh-TW or en)."""

from __future__ import annotations

from cxloop.surveys.mailer import OutgoingMail, clean_name, escape

#: Wording of a reply per language; ``{title}`` is the case title, ``{id}`` its number.
REPLY_WORDING: dict[str, dict[str, str]] = {
    "zh-TW": {
        "subject": "回覆：{title}（案件編號 {id}）",
        "hello": "{name} 您好：",
        "hello_anonymous": "您好：",
        "sign": "{agent} 敬上",
        "quote": "請直接回覆這封信，並保留主旨中的案件編號。",
    },
    "en": {
        "subject": "Re: {title} (case {id})",
        "hello": "Hello {name},",
        "hello_anonymous": "Hello,",
        "sign": "Best regards,\n{agent}",
        "quote": "Reply to this e-mail and keep the case number in the subject.",
    },
}


def reply_mail(
    *,
    case_id: int,
    title: str,
    to_address: str,
    to_name: str | None,
    language: str | None,
    body: str,
    agent: str,
) -> OutgoingMail:
    """The message that carries ``body`` to the customer of case ``case_id``.

    ``language`` picks the wording (zh-TW unless it starts with ``en``); customer and
    agent text is escaped in the HTML part.
    """
    words = REPLY_WORDING["en" if (language or "").startswith("en") else "zh-TW"]
    name = clean_name(to_name)
    hello = words["hello"].format(name=name) if name else words["hello_anonymous"]
    sign = words["sign"].format(agent=clean_name(agent) or agent)
    subject = words["subject"].format(title=clean_name(title), id=case_id)
    text = f"{hello}\n\n{body.strip()}\n\n{sign}\n\n{words['quote']}\n"
    paragraphs = "".join(
        f"<p>{escape(part).replace(chr(10), '<br>')}</p>"
        for part in body.strip().split("\n\n")
        if part.strip()
    )
    html = (
        f"<!doctype html><html><body><p>{escape(hello)}</p>{paragraphs}"
        f"<p>{escape(sign).replace(chr(10), '<br>')}</p>"
        f'<p style="color:#666">{escape(words["quote"])}</p></body></html>'
    )
    return OutgoingMail(to_address, to_name, subject, text, html)

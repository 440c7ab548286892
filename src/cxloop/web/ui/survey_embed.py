"""The embeddable snippet: a script a company website includes to offer its survey.

``<script src="https://cx.example.com/embed/TOKEN.js" async></script>`` adds a
"Feedback" link, fixed at the bottom corner of the page, that opens the survey's
anonymous form in a new tab (the form never runs inside another site's frame: the app
forbids framing). Options are data attributes of the script tag: ``data-lang``
(``zh-TW`` or ``en``; default: the page's ``<html lang>``), ``data-label`` (the link's
words), ``data-position`` (``right`` or ``left``) and ``data-target`` (a CSS selector:
put a plain link inside that element instead of the floating one). The link is a real
``<a>`` element: keyboard-focusable, with a visible focus ring and contrast above 4.5:1.
"""

from __future__ import annotations

import json

LABELS = {"zh-TW": "意見回饋", "en": "Feedback"}
NEW_TAB = {"zh-TW": "（在新分頁開啟）", "en": " (opens in a new tab)"}

_SCRIPT = """\
/* cxloop survey snippet: %(doc)s */
(function () {
  "use strict";
  var config = %(config)s;
  var script = document.currentScript;
  var data = (script && script.dataset) || {};
  function language() {
    var asked = data.lang || document.documentElement.lang || "";
    return asked.toLowerCase().indexOf("en") === 0 ? "en" : "zh-TW";
  }
  function add() {
    if (document.getElementById(config.id)) { return; }
    var lang = language();
    var label = data.label || config.labels[lang];
    var link = document.createElement("a");
    link.id = config.id;
    link.href = config.url + "?lang=" + encodeURIComponent(lang);
    link.target = "_blank";
    link.rel = "noopener";
    link.lang = lang;
    link.textContent = label;
    link.setAttribute("aria-label", label + config.newTab[lang]);
    var target = data.target ? document.querySelector(data.target) : null;
    if (target) { target.appendChild(link); return; }
    var s = link.style;
    s.position = "fixed"; s.bottom = "1rem"; s.zIndex = "2147483000";
    s[data.position === "left" ? "left" : "right"] = "1rem";
    s.background = "#0b57d0"; s.color = "#ffffff"; s.padding = "0.75rem 1.1rem";
    s.borderRadius = "999px"; s.font = "600 16px/1.2 system-ui, sans-serif";
    s.textDecoration = "none"; s.boxShadow = "0 2px 8px rgba(0,0,0,0.25)";
    link.addEventListener("focus", function () {
      s.outline = "3px solid #1a1a1a"; s.outlineOffset = "3px";
    });
    link.addEventListener("blur", function () { s.outline = ""; });
    document.body.appendChild(link);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", add);
  } else {
    add();
  }
})();
"""


def embed_script(*, public_url: str, public_token: str) -> str:
    """The snippet for the survey whose anonymous link carries ``public_token``."""
    config = {
        "id": f"cxloop-feedback-{public_token}",
        "url": f"{public_url.rstrip('/')}/s/{public_token}",
        "labels": LABELS,
        "newTab": NEW_TAB,
    }
    return _SCRIPT % {
        "doc": "docs/en/survey-form.md",
        "config": json.dumps(config, ensure_ascii=True),
    }


def closed_script(public_token: str) -> str:
    """The snippet of a survey that takes no answers now: it adds nothing."""
    return f"/* cxloop: survey {json.dumps(public_token)} takes no answers now */\n"

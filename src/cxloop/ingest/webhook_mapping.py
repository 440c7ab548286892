"""Turn a webhook body in another system's shape into intake items, by a mapping.

A mapping is a JSON object::

    {
      "items": "/tickets",
      "fields": {
        "external_id": "/id",
        "occurred_at": "/created_at",
        "customer.email": "/requester/email",
        "text": "/description",
        "messages": {"path": "/comments", "each": {
            "speaker": {"path": "/author_role",
                        "map": {"end-user": "customer", "agent": "agent"}},
            "at": "/created_at",
            "text": "/body"}},
        "attributes.priority": "/priority"
      },
      "defaults": {"channel": "email"}
    }

``items`` (optional) is a JSON pointer (RFC 6901) to the list of records in the body;
without it the body is one record, or a list of records. Each entry of ``fields``
names an intake field (``customer.<identifier>``, ``answers.<metric>`` and
``attributes.<name>`` reach inside objects) and where its value is in a record: a
pointer, or an object with ``path``, optionally ``map`` (replace values, such as the
names of speakers) and ``each`` (a list: map every element with these fields).
``defaults`` gives values for fields a record lacks. A pointer that finds nothing
leaves the field out; the item check then says what is missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cxloop.domain.errors import InvalidInput
from cxloop.ingest.intake_fields import SCORES
from cxloop.ingest.intake_items import CUSTOMER_FIELDS, FIELDS

#: Fields a mapping may fill (the item's source is always the endpoint's).
TARGETS = tuple(name for name in FIELDS if name not in ("source", "customer"))
NESTED = {
    "customer": tuple(CUSTOMER_FIELDS),
    "answers": tuple(SCORES),
    "attributes": None,  # any name
}
_MISSING = object()


def pointer_value(document: Any, pointer: str) -> Any:
    """The value at ``pointer`` (RFC 6901) in ``document``; ``_MISSING`` if none.

    >>> pointer_value({"a": [{"b~c": 1}]}, "/a/0/b~0c")
    1
    """
    if pointer == "":
        return document
    current = document
    for token in pointer[1:].split("/"):
        part = token.replace("~1", "/").replace("~0", "~")
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
    return current


def _check_pointer(where: str, pointer: Any) -> None:
    if not isinstance(pointer, str) or (pointer and not pointer.startswith("/")):
        msg = f"mapping {where}: {pointer!r} is not a JSON pointer like /ticket/id"
        raise InvalidInput(msg)


def _check_spec(where: str, spec: Any) -> None:
    if isinstance(spec, str):
        _check_pointer(where, spec)
        return
    if not isinstance(spec, dict) or "path" not in spec:
        msg = f"mapping {where}: give a pointer or an object with a path"
        raise InvalidInput(msg)
    unknown = sorted(set(spec) - {"path", "map", "each"})
    if unknown:
        raise InvalidInput(f"mapping {where}: unknown key {unknown[0]!r}")
    _check_pointer(f"{where}.path", spec["path"])
    if "map" in spec and not isinstance(spec["map"], dict):
        raise InvalidInput(f"mapping {where}.map: must be an object of values")
    if "each" in spec:
        if not isinstance(spec["each"], dict):
            raise InvalidInput(f"mapping {where}.each: must be an object of fields")
        for name, inner in spec["each"].items():
            _check_spec(f"{where}.each.{name}", inner)


def _check_target(target: str) -> None:
    head, dot, rest = target.partition(".")
    if not dot and head in TARGETS:
        return
    allowed = NESTED.get(head, ())
    if dot and rest and (allowed is None or rest in allowed):
        return
    names = ", ".join([*TARGETS, "customer.<identifier>", "answers.<metric>"])
    msg = f"mapping fields: {target!r} is not an intake field; use {names}, attributes.<name>"
    raise InvalidInput(msg)


def check_mapping(mapping: Any) -> dict[str, Any]:
    """``mapping`` when it is a valid mapping; InvalidInput names the first problem."""
    if not isinstance(mapping, dict):
        raise InvalidInput("a mapping must be a JSON object with fields")
    unknown = sorted(set(mapping) - {"items", "fields", "defaults"})
    if unknown:
        raise InvalidInput(f"mapping: unknown key {unknown[0]!r}")
    if "items" in mapping:
        _check_pointer("items", mapping["items"])
    fields = mapping.get("fields")
    if not isinstance(fields, dict) or not fields:
        raise InvalidInput("mapping fields: give at least one field and its pointer")
    for target, spec in fields.items():
        _check_target(target)
        _check_spec(f"fields.{target}", spec)
    defaults = mapping.get("defaults", {})
    if not isinstance(defaults, dict):
        raise InvalidInput("mapping defaults: must be an object of field values")
    for target in defaults:
        _check_target(target)
    return mapping


def _value(record: Any, spec: Any) -> Any:
    if isinstance(spec, str):
        return pointer_value(record, spec)
    found = pointer_value(record, spec["path"])
    if found is _MISSING:
        return _MISSING
    if "each" in spec:
        if not isinstance(found, list):
            return found  # the item check says it is not a list
        return [_record(element, spec["each"]) for element in found]
    table: Mapping[str, Any] = spec.get("map", {})
    if isinstance(found, str | int | float | bool) and str(found) in table:
        return table[str(found)]
    return found


def _record(record: Any, fields: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for target, spec in fields.items():
        value = _value(record, spec)
        if value is not _MISSING:
            _put(out, target, value)
    return out


def _put(item: dict[str, Any], target: str, value: Any) -> None:
    head, dot, rest = target.partition(".")
    if dot:
        inner = item.setdefault(head, {})
        if isinstance(inner, dict):
            inner.setdefault(rest, value)
    else:
        item.setdefault(head, value)


def apply_mapping(mapping: Mapping[str, Any], body: Any) -> list[Any]:
    """The intake items a body holds, read through ``mapping``.

    >>> apply_mapping({"fields": {"external_id": "/id", "customer.email": "/by"}},
    ...               {"id": 7, "by": "a@x.tw"})
    [{'external_id': 7, 'customer': {'email': 'a@x.tw'}}]
    """
    records = body
    if "items" in mapping:
        records = pointer_value(body, mapping["items"])
        if not isinstance(records, list):
            msg = f"the body has no list of records at {mapping['items']!r}"
            raise InvalidInput(msg)
    if not isinstance(records, list):
        records = [records]
    items = []
    for record in records:
        item = _record(record, mapping["fields"])
        for target, value in mapping.get("defaults", {}).items():
            _put(item, target, value)
        items.append(item)
    return items

"""Translated names of the case vocabularies shown on the case pages."""

from __future__ import annotations

from cxloop.web.i18n import N_

NAMES: dict[str, dict[str, str]] = {
    "status": {"new": N_("New"), "in_progress": N_("In progress"),
               "waiting_on_customer": N_("Waiting on customer"),
               "resolved": N_("Resolved"), "closed": N_("Closed")},
    "move": {"in_progress": N_("Start working"),
             "waiting_on_customer": N_("Wait on the customer"),
             "resolved": N_("Resolve"), "closed": N_("Close")},
    "priority": {"low": N_("Low"), "normal": N_("Normal"), "high": N_("High"),
                 "urgent": N_("Urgent")},
    "kind": {"complaint": N_("Complaint"), "detractor": N_("Detractor"),
             "at_risk": N_("At risk"), "request": N_("Request")},
    "root_cause": {"value": N_("Value (price, offer)"),
                   "system": N_("System (process, product, IT)"),
                   "people": N_("People (staff, service)")},
    "view": {"mine": N_("Mine"), "team": N_("My team"),
             "unassigned": N_("Unassigned"), "overdue": N_("Overdue"),
             "all": N_("All")},
    "due": {"overdue": N_("Overdue"), "soon": N_("Due soon"), "ok": N_("On time"),
            "paused": N_("Paused"), "none": N_("No due time")},
    "clock": {"first_response": N_("first response"), "resolution": N_("resolution")},
    "event": {"created": N_("Opened"), "routed": N_("Routed"),
              "assigned": N_("Assigned"), "taken": N_("Taken"),
              "handed_over": N_("Handed over"), "status": N_("Status changed"),
              "priority": N_("Priority changed"), "comment": N_("Comment"),
              "reply": N_("Reply to the customer"), "root_cause": N_("Root cause"),
              "escalated": N_("Escalated"), "sla_breached": N_("SLA missed"),
              "followup_sent": N_("Follow-up survey sent"),
              "followup_queued": N_("Follow-up survey queued"),
              "followup_skipped": N_("Follow-up survey skipped"),
              "followup_answered": N_("Follow-up answered")},
}  # fmt: skip

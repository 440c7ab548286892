"""HTML pages: server-rendered Jinja2 templates, enhanced with htmx."""

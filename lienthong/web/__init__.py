"""Web shell: server-rendered pages (Jinja2 + HTMX), Vietnamese UI."""

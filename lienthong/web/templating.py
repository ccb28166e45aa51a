"""One factory for every context's ``Jinja2Templates``, so all pages share the same filters
(``vndate``, ``vndatetime``, ``vnd``), globals (``version``, date-input attributes) and the shared
templates directory (``base.html``, ``_macros.html``)."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

from lienthong import __version__
from lienthong.web import dates, money

WEB_TEMPLATES = Path(__file__).parent / "templates"


def shared_filters() -> dict:
    return {"vndate": dates.vndate, "vndatetime": dates.vndatetime, "vntime": dates.vntime,
            "vntimedate": dates.vntimedate, "vnd": money.vnd}


def shared_globals() -> dict:
    return {"version": __version__, "DATE_PATTERN": dates.DATE_PATTERN,
            "DATE_PLACEHOLDER": dates.DATE_PLACEHOLDER, "DATE_TITLE": dates.DATE_TITLE}


def make_templates(*directories: Path | str, include_web: bool = True) -> Jinja2Templates:
    """``Jinja2Templates`` over ``directories`` (searched first) and, unless ``include_web`` is
    false, the shared web templates, with the shared filters and globals registered."""
    dirs = [Path(d) for d in directories]
    if include_web and WEB_TEMPLATES not in dirs:
        dirs.append(WEB_TEMPLATES)
    templates = Jinja2Templates(directory=dirs)
    templates.env.filters.update(shared_filters())
    templates.env.globals.update(shared_globals())
    return templates


def page_renderer(templates: Jinja2Templates, **defaults):
    """``render(request, name, status_code=200, **context)`` for ``templates``: the page gets the
    signed-in ``principal`` (from ``request.state``) and ``defaults`` unless the context sets them."""
    from fastapi.responses import HTMLResponse

    def render(request, name: str, status_code: int = 200, **context) -> HTMLResponse:
        context.setdefault("principal", getattr(request.state, "principal", None))
        for key, value in defaults.items():
            context.setdefault(key, value)
        return templates.TemplateResponse(request, name, context, status_code=status_code)

    return render

"""Render an email from ``email_templates/<name>/{subject.txt, body.txt, body.html}``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape

from core.errors import NotFound


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@lru_cache
def template_environment() -> Environment:
    root = resources.files("email_templates")
    return Environment(
        loader=FileSystemLoader(str(root)),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        keep_trailing_newline=True,
        auto_reload=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@lru_cache
def _template_names() -> frozenset[str]:
    """The template folders, scanned once: templates ship with the package, and rendering
    thousands of acknowledgements must not list the folder each time."""
    root = resources.files("email_templates")
    return frozenset(p.name for p in root.iterdir() if p.is_dir() and (p / "subject.txt").is_file())


def template_names() -> list[str]:
    return sorted(_template_names())


@lru_cache
def _template(path: str) -> Template:
    """A loaded template whose globals are a plain dict: Jinja keeps them as a ChainMap
    over the environment's, and copies that ChainMap into every render's context, which
    was half the cost of rendering an acknowledgement. Nothing adds globals after start."""
    template = template_environment().get_template(path)
    template.globals = dict(template.globals)
    return template


def render_email(name: str, context: dict[str, Any]) -> RenderedEmail:
    """Render one email; the subject is folded to a single line so it cannot add headers."""
    if name not in _template_names():
        raise NotFound(f"No email template named {name!r}.")
    subject = _template(f"{name}/subject.txt").render(context)
    return RenderedEmail(
        subject=" ".join(subject.split()),
        text=_template(f"{name}/body.txt").render(context),
        html=_template(f"{name}/body.html").render(context),
    )

"""Render an email from ``email_templates/<name>/{subject.txt, body.txt, body.html}``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape
from markupsafe import escape

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


PLAIN_VALUE_RE = re.compile(r'\{\{\s*([A-Za-z_][A-Za-z0-9_]*)(?:\s+or\s+"([^"{}]*)")?\s*\}\}')
"""A placeholder that prints one value as given (or a literal in its place)."""
JINJA_CONSTANTS = frozenset({"true", "false", "none", "True", "False", "None"})


@dataclass(frozen=True)
class PlainTemplate:
    """A template of text and ``PLAIN_VALUE_RE`` placeholders only, rendered as Jinja
    renders it (``str`` of each value, escaped where Jinja autoescapes) without Jinja's
    per-render context, which was most of the cost of an acknowledgement an ingest writes.
    ``texts`` has one more item than ``slots``: the text around them."""

    texts: tuple[str, ...]
    slots: tuple[tuple[str, str | None], ...]
    """Each placeholder's name and its literal fallback (``name or "..."``)."""
    autoescape: bool

    def render(self, context: dict[str, Any]) -> str:
        """Raises KeyError for a value the context lacks (Jinja then says which)."""
        out = [self.texts[0]]
        for (name, fallback), text in zip(self.slots, self.texts[1:], strict=True):
            value = context[name]
            if fallback is not None and not value:
                value = fallback
            out.append(_escaped(value) if self.autoescape else str(value))
            out.append(text)
        return "".join(out)


def _escaped(value: Any) -> str:
    """``markupsafe.escape(value)`` as text: a plain string or int without building a
    ``Markup`` (the same five replacements), anything else through ``escape``."""
    if type(value) is str:
        return (
            value.replace("&", "&amp;")
            .replace(">", "&gt;")
            .replace("<", "&lt;")
            .replace("'", "&#39;")
            .replace('"', "&#34;")
        )
    if type(value) is int:
        return str(value)
    return escape(value)


@lru_cache
def plain_template(path: str) -> PlainTemplate | None:
    """``path`` as a ``PlainTemplate``, or None when Jinja must render it: any block,
    comment, expression, filter, whitespace control, Jinja constant, escape in a literal,
    carriage return (Jinja rewrites line ends) or environment option that changes text."""
    env = template_environment()
    source = env.loader.get_source(env, path)[0]  # type: ignore[union-attr]
    options = (env.line_statement_prefix, env.line_comment_prefix, env.finalize)
    if not env.keep_trailing_newline or any(o is not None for o in options) or "\r" in source:
        return None
    slots = [(m[1], m[2]) for m in PLAIN_VALUE_RE.finditer(source)]
    texts = PLAIN_VALUE_RE.split(source)[::3]
    if any(t.count(m) for t in texts for m in ("{{", "{%", "{#")):
        return None
    if any(n in JINJA_CONSTANTS or (f is not None and "\\" in f) for n, f in slots):
        return None
    autoescape = env.autoescape(path) if callable(env.autoescape) else env.autoescape
    return PlainTemplate(tuple(texts), tuple(slots), bool(autoescape))


def _render(path: str, context: dict[str, Any]) -> str:
    plain = plain_template(path)
    if plain is not None:
        try:
            return plain.render(context)
        except KeyError:
            pass  # a missing value: Jinja's StrictUndefined names it
    return _template(path).render(context)


def render_email(name: str, context: dict[str, Any]) -> RenderedEmail:
    """Render one email; the subject is folded to a single line so it cannot add headers."""
    if name not in _template_names():
        raise NotFound(f"No email template named {name!r}.")
    subject = _render(f"{name}/subject.txt", context)
    return RenderedEmail(
        subject=" ".join(subject.split()),
        text=_render(f"{name}/body.txt", context),
        html=_render(f"{name}/body.html", context),
    )

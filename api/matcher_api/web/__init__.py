"""The coordinator's and the agencies' web pages (server-rendered, in Swedish): ``mount(app)``."""

from matcher_api.web.pages import mount

__all__ = ["mount"]

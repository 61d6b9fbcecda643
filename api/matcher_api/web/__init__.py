"""The coordinator's and the agencies' web pages (server-rendered, Swedish), mounted by ``mount``."""

from matcher_api.web.pages import mount

__all__ = ["mount"]

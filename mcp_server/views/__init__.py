"""MCP Apps views: the calendar's `ui://` documents and the names that bind tools to them.

Hosts that negotiate the MCP Apps extension (`io.modelcontextprotocol/ui`) render these views;
every other client sees the server exactly as it is without them.
"""

from typing import Final

WEEK_URI: Final = "ui://calendar/week.html"
PREVIEW_URI: Final = "ui://calendar/batch-preview.html"
CONFIRMATION_META_KEY: Final = "clinic.calendar/confirmation"
VIEW_WEEK_TOOL: Final = "system_view_week"

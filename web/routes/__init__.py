"""HTTP routes, one small module per area; `web.app` includes them in one visible list."""

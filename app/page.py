"""The web page's files, shipped inside the package and served by the app itself."""

from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
# Where the page's stylesheet and script are served from.
STATIC_ROUTE = "/static"
# The page may load and call nothing but this service: no CDN, no request leaving it.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-cache"}

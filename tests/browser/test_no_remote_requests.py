"""Issue #10 item 5 in a real browser: an agent and an ops member of ``backoffice demo`` open
a ticket whose subject, sender name, body and attachment name carry Markdown image links and
URLs pointing at a tracking server, look at the queue, the ticket and the captured mail, and
the browser never requests anything from a mail-supplied URL (the tracking server, a local
HTTP server, counts every hit; every request the page makes is recorded too), no mail text
becomes a link, and neither the staff app nor the portal fetches anything from another
origin (favicon and fonts are served locally: issue #12 item 10)."""

from __future__ import annotations

import http.server
import json
import threading
import time

import pytest
from playwright.sync_api import Page

from tests.backoffice.staff.hostile_ticket import hostile_email
from tests.browser.conftest import DemoServer, free_port
from tests.browser.portal_steps import sign_in_in_browser, wait_for_app
from tests.browser.staff_steps import backoffice_cli, create_staff, sign_in, sign_out

pytestmark = pytest.mark.browser


class Tracker(http.server.ThreadingHTTPServer):
    """Answers every GET with a 1x1 GIF and remembers the path."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        tracker = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                tracker.hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/gif")
                self.end_headers()
                self.wfile.write(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")

            def log_message(self, *args) -> None:
                pass

        super().__init__(("127.0.0.1", free_port()), Handler)


@pytest.fixture
def tracker():
    server = Tracker()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def mistyped_ticket_then_the_sidebar_link(page: Page, demo: DemoServer) -> None:
    """Issue #12 item 6: a wrong number says so with the box to try again; the sidebar's
    Ticket link starts over without the error."""
    page.goto(f"{demo.staff_url}/ticket?ticket=99")
    wait_for_app(page, ".st-key-t_pick input")
    assert "No ticket #99" in page.locator("[data-testid='stMain']").inner_text()
    page.locator("[data-testid='stSidebarNav'] a", has_text="Ticket").click()
    page.get_by_text("No ticket #99").wait_for(state="detached", timeout=15_000)
    wait_for_app(page, ".st-key-t_pick input")


def look_at_everything(page: Page, demo: DemoServer, ticket_id: int, *, decide: bool) -> None:
    """Queue, the hostile ticket with every message open, and the captured mail."""
    if decide:
        wait_for_app(page, ".st-key-queue_rows")
        page.goto(f"{demo.staff_url}/ticket?ticket={ticket_id}")
        wait_for_app(page, "[data-testid='stExpander']")
        for summary in page.locator("[data-testid='stExpander'] summary").all():
            summary.click()
        wait_for_app(page, "h1")
        links = page.locator("[data-testid='stMain'] a[href]")
        hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
        hrefs = [h for h in hrefs if not h.startswith("#")]  # the headings' own anchors
        assert hrefs == [], f"mail text became links: {hrefs}"
        mistyped_ticket_then_the_sidebar_link(page, demo)
    page.goto(f"{demo.staff_url}/mail")
    wait_for_app(page, "[role='tab']")
    page.locator("[role='tab']", has_text="Captured").click()
    wait_for_app(page, "[data-testid='stExpander']")
    for summary in page.locator("[data-testid='stExpander'] summary").all()[:5]:
        summary.click()
    wait_for_app(page, "[data-testid='stExpander']")


def test_agent_and_ops_never_fetch_a_mail_supplied_url(demo_server, chromium_page, tracker):
    demo, page = demo_server, chromium_page
    db_url = f"sqlite:///{demo.workdir / 'data' / 'demo.db'}"
    tracking_host = f"127.0.0.1:{tracker.server_address[1]}"
    eml = demo.workdir / "hostile.eml"
    eml.write_bytes(hostile_email(tracker=tracking_host))
    backoffice_cli(db_url, "ingest", str(eml))
    listed = json.loads(backoffice_cli(db_url, "tickets", "list", "--json"))["tickets"]
    ticket_id = next(t["id"] for t in listed if t["requester_email"] == "mallory@example.org")
    agent = create_staff(db_url, "ann", "agent", "ann demo password")
    ops = create_staff(db_url, "olly", "ops", "olly demo password")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    try:
        sign_in(page, demo.staff_url, agent)
        look_at_everything(page, demo, ticket_id, decide=True)
        sign_out(page)
        sign_in(page, demo.staff_url, ops)
        look_at_everything(page, demo, ticket_id, decide=False)
        sign_in_in_browser(page, demo.portal_url, demo.portal_username, demo.portal_password)
        page.locator(".st-key-to_authentication a").click()
        wait_for_app(page, ".st-key-add_2fa button")
        time.sleep(1)  # anything lazy-loaded would have been requested by now
    except Exception:
        page.screenshot(path=str(demo.workdir / "failure.png"), full_page=True)
        raise
    assert tracker.hits == []
    assert not [url for url in requests if tracking_host in url]
    own = (demo.staff_url, demo.portal_url, "data:", "blob:", "about:")
    foreign = [url for url in requests if not url.startswith(own)]
    assert foreign == [], f"an app fetched something from elsewhere: {foreign}"

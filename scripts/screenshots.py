"""Refresh the screenshots of Parlour's main pages in docs/screenshots/.

Loads the demo into a throwaway data folder, serves it with ``parlour run`` on a free
loopback port, and photographs the main pages with the system's Chromium (Playwright, no
browser download) on a desktop and on a phone-sized window, as the people of the demo see
them. Run it after ``make test`` has installed the test tools:

    .venv/bin/python scripts/screenshots.py            # or: make screenshots

A page that the running Parlour does not serve is skipped and named at the end."""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
PASSWORD = "parlour-demo"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parlour(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "parlour", *args], env=env, check=True, capture_output=True, text=True)


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"Parlour did not answer at {url}")


def demo_facts(env: dict) -> dict:
    """Ids the addresses need, read from the demo database."""
    code = (
        "from parlour.meetings.models import Meeting;"
        "from parlour.meetings.guest_links import link_token;"
        "from parlour.accounts.models import User;"
        "from parlour.catalog.models import Service;"
        "from parlour.conversations.models import Conversation;"
        "now=Meeting.objects.get(subject='Video check-in');"
        "held=Meeting.objects.filter(status='completed', client__isnull=False).first();"
        "eve=User.objects.get(email='eve@parlour.example');"
        "service=Service.objects.filter(organization__slug='demo', name='Intro call').first();"
        "talk=Conversation.objects.get(organization__slug='demo', client__email='cleo@parlour.example');"
        "print(now.pk, link_token(now), now.guest_key, held.pk, eve.pk, service.pk, talk.pk)"
    )
    out = parlour("shell", "-c", code, env=env).stdout.strip().splitlines()[-1].split()
    keys = ["room_meeting", "guest_token", "guest_key", "held_meeting", "eve", "intro", "conversation"]
    return dict(zip(keys, out, strict=True))


def main() -> int:
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("Install Chromium first (Debian: apt-get install chromium).")
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="parlour-shots-") as data:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "PARLOUR_DATA_DIR": data, "PARLOUR_BASE_URL": base, "PARLOUR_ICE_SERVERS": "[]"}
        parlour("demo", env=env)
        facts = demo_facts(env)
        server = subprocess.Popen(
            [sys.executable, "-m", "parlour", "run", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(f"{base}/signin/")
            skipped = shoot(chromium, base, facts)
        finally:
            server.terminate()
            server.wait(90)
    print(f"Screenshots in {OUT.relative_to(ROOT)}/")
    if skipped:
        print("Not served, skipped:", ", ".join(skipped))
    return 0


def shoot(chromium: str, base: str, facts: dict) -> list[str]:
    skipped: list[str] = []
    pages = [
        # (file name, who signs in (email or None), address)
        ("signin", None, "/signin/"),
        ("dashboard", "eve@parlour.example", "/o/demo/"),
        ("overview", "ada@parlour.example", "/o/demo/meetings/?tab=everyone"),
        ("meeting", "cleo@parlour.example", f"/o/demo/meetings/{facts['held_meeting']}/"),
        ("wallet", "cleo@parlour.example", "/o/demo/wallet/"),
        ("conversations", "eve@parlour.example", "/o/demo/conversations/"),
        ("conversation", "eve@parlour.example", f"/o/demo/conversations/{facts['conversation']}/"),
        ("notifications", "eve@parlour.example", "/notifications/"),
        ("forgot-password", None, "/signin/forgot/"),
        ("account", "cleo@parlour.example", "/account/"),
        ("free-dates", "eve@parlour.example", "/o/demo/free-dates/"),
        ("settings", "ada@parlour.example", "/o/demo/settings/"),
        ("organization-page", None, "/o/demo/experts/"),
        ("profile", "eve@parlour.example", "/o/demo/profile/"),
        ("expert-page", None, f"/o/demo/experts/{facts['eve']}/"),
        ("service-page", None, f"/o/demo/services/{facts['intro']}/"),
        ("guest-page", None, f"/g/{facts['guest_token']}/"),
        ("guest-key", None, "/join/"),
        ("room-check", None, f"/join/{facts['guest_token']}/"),
    ]
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium, args=BROWSER_ARGS)
        for size_name, size in (("desktop", DESKTOP), ("phone", PHONE)):
            contexts: dict = {}
            for name, who, path in pages:
                context = contexts.get(who)
                if context is None:
                    context = contexts[who] = browser.new_context(
                        base_url=base, viewport=size, locale="en-GB", timezone_id="Europe/London"
                    )
                    if who:
                        page = context.new_page()
                        page.goto("/signin/")
                        page.fill("#id_username", who)
                        page.fill("#id_password", PASSWORD)
                        page.click("button[type=submit]")
                        page.wait_for_load_state()
                        page.close()
                page = context.new_page()
                answer = page.goto(path)
                if answer is None or answer.status >= 400:
                    skipped.append(f"{name} ({answer.status if answer else 'no answer'})")
                    page.close()
                    continue
                if name == "room-check":
                    page.get_by_role("button", name="Enter the room").click()
                    page.wait_for_url("**/rooms/*/")
                    page.wait_for_selector("#check-status[data-result='passed']", timeout=15_000)
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(OUT / f"{name}-{size_name}.png"), full_page=size_name == "desktop")
                page.close()
            for context in contexts.values():
                context.close()
        browser.close()
    return sorted(set(skipped))


if __name__ == "__main__":
    sys.exit(main())

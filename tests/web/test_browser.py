"""A whole round in headless Chromium (Debian's package, driven by Playwright): sign in, create a
round, three uploads (one with the wrong key, refused visibly), matching with live status, cases,
results download, purge; access control; screenshots of the main pages."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.api.factories import COORDINATOR_TOKEN
from tests.web.conftest import demo_files, wrong_key_file

ROUND = "sspf-demo"


def _sign_in(page: Any, base: str, token: str) -> None:
    page.goto(f"{base}/web/signin")
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Logga in").click()


def _upload(page: Any, base: str, tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    page.goto(f"{base}/web/agency/rounds/{ROUND}")
    page.locator("#file").set_input_files(str(path))
    page.get_by_role("button", name="Ladda upp").click()


def _drop(page: Any, base: str, content: bytes) -> None:
    """Drag and drop a file onto the upload zone (the page submits it by itself)."""
    page.goto(f"{base}/web/agency/rounds/{ROUND}")
    transfer = page.evaluate_handle(
        """(bytes) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array(bytes)], "hashed.parquet"));
            return transfer;
        }""",
        list(content),
    )
    with page.expect_navigation():
        page.dispatch_event("[data-dropzone]", "drop", {"dataTransfer": transfer})


def test_a_whole_round_in_the_browser(
    browser: Any, live_service: str, tmp_path: Path, screenshots: Path
) -> None:
    base = live_service
    viewport = {"width": 1280, "height": 900}
    coordinator = browser.new_context(viewport=viewport, accept_downloads=True)
    page = coordinator.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: problems.append(r.url) if r.status == 404 else None)

    page.goto(f"{base}/web/signin")
    page.screenshot(path=str(screenshots / "signin.png"))
    _sign_in(page, base, COORDINATOR_TOKEN)
    page.wait_for_url(re.compile(r"/web/rounds$"))

    page.get_by_role("link", name="Skapa en ny omgång").click()
    page.get_by_label("Namn", exact=True).fill("SSPF Södermalm, våren 2026 (demo)")
    page.get_by_label("Omgångens id").fill(ROUND)
    page.get_by_label("Rättslig grund").fill("Vårdnadshavares samtycke i varje verksamhets akt")
    page.get_by_label("Verksamheter (agencies)").fill("skola, socialtjanst, polis")
    page.get_by_label("Vad en verksamhet får veta").select_option("agencies_and_categories")
    page.screenshot(path=str(screenshots / "round-new.png"), full_page=True)
    page.get_by_role("button", name="Skapa omgången").click()
    page.get_by_role("heading", name=f"Omgången {ROUND}: nya tokens").wait_for()
    tokens = {
        code.get_attribute("data-agency"): code.inner_text()
        for code in page.locator("code.token[data-agency]").all()
    }
    assert set(tokens) == {"skola", "socialtjanst", "polis"}
    coordinator.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Kopiera token för skola").click()
    assert page.evaluate("navigator.clipboard.readText()") == tokens["skola"]
    page.screenshot(path=str(screenshots / "round-created.png"), full_page=True)
    page.emulate_media(media="print")  # the hand-over sheets: one per agency, nothing else
    assert page.locator(".sheet").count() == 3 and page.locator(".sheet").first.is_visible()
    assert not page.get_by_role("button", name="Kopiera token för skola").is_visible()
    assert tokens["polis"] in page.locator(".sheet", has_text="polis").inner_text()
    page.emulate_media(media="screen")

    files = demo_files(ROUND)
    stewards = {}
    for agency in ("skola", "socialtjanst", "polis"):
        context = browser.new_context(accept_downloads=True)
        stewards[agency] = context.new_page()
        _sign_in(stewards[agency], base, tokens[agency])
        stewards[agency].wait_for_url(re.compile(r"/web/agency$"))
    _upload(stewards["skola"], base, tmp_path, "skola.parquet", files["skola"])
    assert "Filen togs emot" in stewards["skola"].locator("#verdict").inner_text()
    _drop(stewards["socialtjanst"], base, files["socialtjanst"])
    assert "Filen togs emot" in stewards["socialtjanst"].locator("#verdict").inner_text()
    polis = stewards["polis"]
    _upload(polis, base, tmp_path, "polis-wrong.parquet", wrong_key_file(ROUND, "polis"))
    verdict = polis.locator("#verdict")
    assert "annan nyckel" in verdict.inner_text()
    assert verdict.get_attribute("role") == "alert"
    polis.screenshot(path=str(screenshots / "agency-refused.png"), full_page=True)
    _upload(polis, base, tmp_path, "polis.parquet", files["polis"])
    assert "Filen togs emot" in polis.locator("#verdict").inner_text()

    page.goto(f"{base}/web/rounds/{ROUND}")
    assert page.locator("#uploads .ok", has_text="stämmer").count() == 3
    assert "fel nyckel" in page.locator("#refusals").inner_text()
    page.get_by_role("button", name="Kör matchningen").click()
    page.locator("#cases").wait_for(timeout=60_000)  # the page polls, then reloads when done
    assert page.locator("#match-status").inner_text().startswith("klar")
    cases = page.locator("#cases").inner_text()
    assert "<5" in cases and re.search(r"skola \+ socialtjanst\s+12", cases)
    assert page.locator("svg.chart rect.bar.suppressed").count() == 2
    page.screenshot(path=str(screenshots / "round.png"), full_page=True)

    skola = stewards["skola"]
    skola.goto(f"{base}/web/agency/rounds/{ROUND}")
    assert f"matcher results --round {ROUND}" in skola.locator("#results-command").inner_text()
    skola.screenshot(path=str(screenshots / "agency-round.png"), full_page=True)
    with skola.expect_download() as info:
        skola.get_by_role("link", name="Ladda ner resultatfilen").click()
    view = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
    assert view["agency"] == "skola" and view["round_id"] == ROUND and view["cases"]

    page.goto(f"{base}/web/audit")
    page.get_by_label("Händelse (action)").select_option("upload.refused")
    page.get_by_role("button", name="Filtrera").click()
    assert page.locator("#audit tbody tr").count() == 1
    page.goto(f"{base}/web/audit")
    page.screenshot(path=str(screenshots / "audit.png"), full_page=True)

    page.goto(f"{base}/web/rounds/{ROUND}")
    page.get_by_role("link", name="Radera omgången nu").click()
    page.get_by_label("Skriv omgångens id").fill(ROUND)
    page.screenshot(path=str(screenshots / "purge.png"))
    page.get_by_role("button", name="Radera omgången").click()
    page.get_by_role("heading", name=f"Omgången {ROUND} är raderad").wait_for()
    page.goto(f"{base}/web/rounds")
    assert "Inga omgångar" in page.locator("main").inner_text()
    assert problems == []  # no CSP violation or script error in the console


def test_agency_cannot_open_coordinator_pages_or_another_round_in_the_browser(
    browser: Any, live_service: str
) -> None:
    import httpx

    base = live_service
    tokens = {}
    for round_id in ("r-a", "r-b"):
        response = httpx.post(
            f"{base}/rounds",
            json={
                "id": round_id,
                "name": "x",
                "legal_basis": "consent",
                "agencies": ["skola", "polis"],
            },
            headers={"Authorization": f"Bearer {COORDINATOR_TOKEN}"},
        )
        assert response.status_code == 201
        tokens[round_id] = response.json()["agency_tokens"]["skola"]
    page = browser.new_context().new_page()
    _sign_in(page, base, tokens["r-a"])
    page.wait_for_url(re.compile(r"/web/agency$"))
    for path in ("/web/rounds", "/web/rounds/r-a", "/web/audit", "/web/agency/rounds/r-b"):
        response = page.goto(base + path)
        assert response is not None and response.status == 403, path
        assert page.get_by_role("heading", name="Åtkomst nekad").is_visible()
    page.goto(f"{base}/web/agency")
    assert page.locator("main").inner_text().count("r-b") == 0


def test_pages_work_by_keyboard_and_at_200_percent_zoom(browser: Any, live_service: str) -> None:
    context = browser.new_context(viewport={"width": 640, "height": 800}, device_scale_factor=2)
    page = context.new_page()  # 1280 px at 200 % zoom: a 640 CSS px wide layout
    page.goto(f"{live_service}/web/signin")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Hoppa till innehållet"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "token"
    page.keyboard.type(COORDINATOR_TOKEN)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/web/rounds$"))
    page.goto(f"{live_service}/web/rounds/new")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 640  # no horizontal scrolling at 200 %
    ratios = page.evaluate(CONTRAST_JS, "main *, header a, header button, footer")
    low = {text: ratio for text, ratio in ratios if ratio < 4.5}
    assert ratios and not low  # WCAG AA for normal text


CONTRAST_JS = """(selector) => {
    const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => {
        const f = (v) => {
            v /= 255;
            return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
        };
        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const background = (el) => {
        for (; el; el = el.parentElement) {
            const c = rgb(getComputedStyle(el).backgroundColor);
            if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
        }
        return [255, 255, 255];
    };
    const out = [];
    for (const el of document.querySelectorAll(selector)) {
        const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
        if (!own) continue;
        const a = lum(rgb(getComputedStyle(el).color).slice(0, 3)), b = lum(background(el));
        const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        out.push([el.textContent.trim().slice(0, 40), ratio]);
    }
    return out;
}"""

"""The pages without a browser (SQLite, and PostgreSQL when configured): sign-in, CSRF, access
control, a whole round through the forms, refusals in plain words, suppression and privacy."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from matcher_api.web.charts import BAR_WIDTH, bar_chart
from tests.api.factories import COORDINATOR_TOKEN, refs_of
from tests.web.conftest import Pages, demo_files, wrong_key_file

TEMPLATES = Path(__file__).parents[2] / "api" / "matcher_api" / "web" / "templates"


def _wait_done(pages: Pages, round_id: str) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = pages.client.get(f"/web/rounds/{round_id}/status").json()["status"]
        if status in ("done", "failed"):
            return str(status)
        time.sleep(0.05)
    raise AssertionError("matching did not finish")


def test_sign_in_sets_a_strict_http_only_cookie_and_rejects_unknown_tokens(
    make_pages: Callable[[], Pages],
) -> None:
    pages = make_pages()
    refused = pages.sign_in("not-a-token")
    assert refused.status_code == 401
    assert "Okänd eller återkallad token" in refused.text
    assert "matcher_session" not in pages.client.cookies
    response = pages.client.post(
        "/web/signin",
        data={"csrf": pages.csrf("/web/signin"), "token": COORDINATOR_TOKEN},
        follow_redirects=False,
    )
    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/web" in cookie
    assert "secure" not in cookie  # plain HTTP in tests; Secure is set behind TLS


def test_sign_in_needs_its_csrf_token(make_pages: Callable[[], Pages]) -> None:
    pages = make_pages()
    response = pages.client.post("/web/signin", data={"token": COORDINATOR_TOKEN})
    assert response.status_code == 403
    assert "matcher_session" not in pages.client.cookies


def test_every_form_needs_the_session_csrf_token(make_pages: Callable[[], Pages]) -> None:
    pages = make_pages()
    pages.sign_in(COORDINATOR_TOKEN)
    pages.create_round("r-csrf")
    for path in ("/web/rounds/new", "/web/rounds/r-csrf/match", "/web/rounds/r-csrf/purge",
                 "/web/signout"):  # fmt: skip
        response = pages.client.post(path, data={"csrf": "forged", "confirm": "r-csrf"})
        assert response.status_code == 403, path
    assert pages.client.get("/web/rounds/r-csrf").status_code == 200  # not purged, still in


def test_signed_out_pages_redirect_to_sign_in(make_pages: Callable[[], Pages]) -> None:
    pages = make_pages()
    for path in ("/web", "/web/rounds", "/web/audit", "/web/agency"):
        response = pages.client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/web/signin"


def test_security_headers_and_no_inline_script_or_style(make_pages: Callable[[], Pages]) -> None:
    pages = make_pages()
    response = pages.client.get("/web/signin")
    csp = response.headers["content-security-policy"]
    assert "unsafe-inline" not in csp and "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template.name
        assert "<style" not in text and " style=" not in text, template.name
        assert not re.search(r"\son[a-z]+=", text), template.name  # no inline handlers


def test_unknown_pages_are_html_error_pages(make_pages: Callable[[], Pages]) -> None:
    pages = make_pages()
    response = pages.client.get("/web/no/such/page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Sidan finns inte" in response.text


def test_agency_cannot_open_coordinator_pages_or_another_round(
    make_pages: Callable[[], Pages],
) -> None:
    coordinator = make_pages()
    coordinator.sign_in(COORDINATOR_TOKEN)
    first = coordinator.create_round("r-one")
    coordinator.create_round("r-two")
    agency = make_pages()
    agency.sign_in(first["skola"])
    for path in ("/web/rounds", "/web/rounds/new", "/web/rounds/r-one", "/web/audit",
                 "/web/rounds/r-one/purge", "/web/rounds/r-one/status"):  # fmt: skip
        response = agency.client.get(path)
        assert response.status_code == 403, path
        assert "Åtkomst nekad" in response.text
    assert agency.client.get("/web/agency/rounds/r-two").status_code == 403
    assert agency.client.get("/web/agency/rounds/r-two/results").status_code == 403
    assert agency.client.get("/web/agency/rounds/r-one").status_code == 200
    assert coordinator.client.get("/web/agency/rounds/r-one").status_code == 403


def test_a_whole_round_through_the_pages(make_pages: Callable[[], Pages]) -> None:
    coordinator, stewards = make_pages(), {}
    coordinator.sign_in(COORDINATOR_TOKEN)
    tokens = coordinator.create_round("r-demo")
    files = demo_files("r-demo")
    for agency, token in tokens.items():
        stewards[agency] = make_pages()
        stewards[agency].sign_in(token)
    assert stewards["skola"].upload("r-demo", files["skola"]).status_code == 200
    assert stewards["socialtjanst"].upload("r-demo", files["socialtjanst"]).status_code == 200
    refused = stewards["polis"].upload("r-demo", wrong_key_file("r-demo", "polis"))
    assert refused.status_code == 409
    assert "annan nyckel" in refused.text
    accepted = stewards["polis"].upload("r-demo", files["polis"])
    assert accepted.status_code == 200 and "Filen togs emot" in accepted.text

    page = coordinator.client.get("/web/rounds/r-demo").text
    assert page.count("stämmer</span>") == 3
    assert "fel nyckel (key mismatch)" in page  # the refusal is on the coordinator's page

    csrf = coordinator.csrf("/web/rounds/r-demo")
    coordinator.client.post("/web/rounds/r-demo/match", data={"csrf": csrf})
    assert _wait_done(coordinator, "r-demo") == "done"
    page = coordinator.client.get("/web/rounds/r-demo").text
    assert "&lt;5" in page and "<svg" in page
    assert re.search(r"<td>skola \+ socialtjanst</td><td>12</td>", page)
    assert 'class="bar suppressed"' in page

    download = stewards["skola"].client.get("/web/agency/rounds/r-demo/results")
    assert download.status_code == 200
    assert "attachment" in download.headers["content-disposition"]
    assert download.json()["agency"] == "skola"
    agency_page = stewards["skola"].client.get("/web/agency/rounds/r-demo").text
    assert "matcher results --round r-demo" in agency_page

    # No ref of any upload appears on any coordinator page.
    refs = {ref for content in files.values() for ref in refs_of(content)}
    for path in ("/web/rounds", "/web/rounds/r-demo", "/web/audit"):
        text = coordinator.client.get(path).text
        assert not any(ref in text for ref in refs), path

    audit = coordinator.client.get("/web/audit", params={"action": "upload.refused"}).text
    assert "<td>upload.refused</td>" in audit and "<td>round.create</td>" not in audit

    csrf = coordinator.csrf("/web/rounds/r-demo/purge")
    wrong = coordinator.client.post("/web/rounds/r-demo/purge", data={"csrf": csrf, "confirm": "x"})
    assert wrong.status_code == 422
    purged = coordinator.client.post(
        "/web/rounds/r-demo/purge", data={"csrf": csrf, "confirm": "r-demo"}
    )
    assert purged.status_code == 200 and "är raderad" in purged.text
    assert coordinator.client.get("/web/rounds/r-demo").status_code == 404
    # The agencies' sessions end with their round.
    gone = stewards["skola"].client.get("/web/agency", follow_redirects=False)
    assert gone.status_code == 303


def test_invalid_round_form_is_refused_in_place(make_pages: Callable[[], Pages]) -> None:
    pages = make_pages()
    pages.sign_in(COORDINATOR_TOKEN)
    form = {"csrf": pages.csrf("/web/rounds/new"), "name": "x", "legal_basis": "ok ok",
            "agencies": "skola", "k": "1"}  # fmt: skip
    response = pages.client.post("/web/rounds/new", data=form)
    assert response.status_code == 422
    assert "Omgången kunde inte skapas" in response.text


def test_a_bad_file_is_refused_in_plain_words(make_pages: Callable[[], Pages]) -> None:
    coordinator = make_pages()
    coordinator.sign_in(COORDINATOR_TOKEN)
    tokens = coordinator.create_round("r-bad")
    steward = make_pages()
    steward.sign_in(tokens["skola"])
    response = steward.upload("r-bad", b"not a parquet file at all")
    assert response.status_code == 422
    assert "inte en giltig hashad fil" in response.text
    assert "not a parquet" not in response.text  # the content is never echoed


def test_sign_out_ends_the_session(make_pages: Callable[[], Pages]) -> None:
    pages = make_pages()
    pages.sign_in(COORDINATOR_TOKEN)
    csrf = pages.csrf("/web/rounds")
    assert pages.client.post("/web/signout", data={"csrf": csrf}).status_code == 200
    assert pages.client.get("/web/rounds", follow_redirects=False).status_code == 303


counts = st.one_of(st.integers(min_value=5, max_value=10_000), st.just("<5"))


@given(st.lists(st.tuples(st.text(min_size=1, max_size=20), counts), max_size=12))
def test_chart_bars_show_suppressed_counts_only_as_below_the_threshold(
    rows: list[tuple[str, int | str]],
) -> None:
    chart = bar_chart(rows, 5)
    assert len(chart.bars) == len(rows)
    for bar, (_, count) in zip(chart.bars, rows, strict=True):
        assert bar.suppressed == isinstance(count, str)
        assert bar.shown == str(count)
        assert 2 <= bar.width <= BAR_WIDTH


def test_what_the_coordinator_types_is_escaped_on_every_page(
    make_pages: Callable[[], Pages],
) -> None:
    pages = make_pages()
    pages.sign_in(COORDINATOR_TOKEN)
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    form = {"csrf": pages.csrf("/web/rounds/new"), "id": "r-x", "name": hostile,
            "legal_basis": hostile, "agencies": "skola, polis"}  # fmt: skip
    assert pages.client.post("/web/rounds/new", data=form).status_code == 200
    for path in ("/web/rounds", "/web/rounds/r-x", "/web/rounds/r-x/purge", "/web/audit"):
        text = pages.client.get(path).text
        assert "<script>alert" not in text and "<img src=x" not in text, path
    assert "&lt;script&gt;" in pages.client.get("/web/rounds/r-x").text


def test_tokens_are_shown_once_and_can_be_reissued(make_pages: Callable[[], Pages]) -> None:
    coordinator = make_pages()
    coordinator.sign_in(COORDINATOR_TOKEN)
    tokens = coordinator.create_round("r-once")
    again = coordinator.client.get("/web/rounds/r-once/tokens").text
    assert not any(token in again for token in tokens.values())
    assert "redan visats" in again
    steward = make_pages()
    steward.sign_in(tokens["polis"])
    assert steward.client.get("/web/agency", follow_redirects=False).status_code == 200

    csrf = coordinator.csrf("/web/rounds/r-once")
    shown = coordinator.client.post(
        "/web/rounds/r-once/tokens", data={"csrf": csrf, "agency": "polis"}
    )
    assert shown.status_code == 200
    new = dict(re.findall(r'data-agency="([^"]+)">([^<]+)</code>', shown.text))
    assert set(new) == {"polis"} and new["polis"] != tokens["polis"]
    # The old token's session ends; the new token signs in.
    assert steward.client.get("/web/agency", follow_redirects=False).status_code == 303
    assert make_pages().sign_in(new["polis"]).url.path == "/web/agency"
    unknown = coordinator.client.post(
        "/web/rounds/r-once/tokens", data={"csrf": csrf, "agency": "nobody"}
    )
    assert unknown.status_code == 404


def test_the_round_form_opens_an_analysis_round(make_pages: Callable[[], Pages]) -> None:
    pages = make_pages()
    pages.sign_in(COORDINATOR_TOKEN)
    assert 'name="kind"' in pages.client.get("/web/rounds/new").text
    form = {"csrf": pages.csrf("/web/rounds/new"), "id": "r-an", "name": "Placeringar",
            "legal_basis": "ok ok", "agencies": "skola, placering", "k": "2",
            "kind": "analysis"}  # fmt: skip
    assert pages.client.post("/web/rounds/new", data=form).status_code == 200
    page = pages.client.get("/web/rounds/r-an")
    assert page.status_code == 200 and "analys: bara sammanställd statistik" in page.text

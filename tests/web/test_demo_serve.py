"""`matcher demo` with the pages: while serving, the round it made is open on the pages."""

from __future__ import annotations

import re

import httpx

from matcher_cli.demo import DemoResult, run_demo


def test_demo_serves_its_round_on_the_pages() -> None:
    seen: dict[str, object] = {}

    def serve(result: DemoResult) -> None:
        base = result.service_url
        with httpx.Client(base_url=base, follow_redirects=True) as client:
            form = client.get("/web/signin").text
            csrf = re.search(r'name="csrf" value="([^"]+)"', form)
            assert csrf is not None
            signed = client.post(
                "/web/signin", data={"csrf": csrf.group(1), "token": result.coordinator_token}
            )
            seen["rounds"] = signed.text
            seen["round"] = client.get(f"/web/rounds/{result.round_id}")

    result = run_demo(
        children=120, seed=2, agencies=("skola", "socialtjanst", "polis", "fritid"), serve=serve
    )
    assert result.round_id in str(seen["rounds"])  # not purged while serving
    page = seen["round"]
    assert isinstance(page, httpx.Response) and page.status_code == 200
    assert 'id="cases"' in page.text
    assert not result.workspace.exists()  # still cleaned up once serving ends


def test_demo_command_prints_the_pages_address() -> None:
    from typer.testing import CliRunner

    from matcher_cli.app import app

    outcome = CliRunner().invoke(
        app, ["demo", "--children", "120", "--agencies", "skola,socialtjanst,polis,fritid"]
    )
    assert outcome.exit_code == 0, outcome.output
    assert re.search(r"http://127\.0\.0\.1:\d+/web", outcome.output)

"""What every page carries: no template syntax printed, an icon, the district's zone by name."""

from __future__ import annotations

import re
from pathlib import Path

from django.urls import reverse

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_DIRS = [ROOT / "templates", *ROOT.glob("*/templates")]


def test_no_template_comment_spans_lines() -> None:
    """Django prints a ``{# #}`` comment that does not close on its own line as page text."""
    unclosed = []
    for folder in TEMPLATE_DIRS:
        for template in folder.rglob("*.html"):
            for number, line in enumerate(template.read_text().splitlines(), start=1):
                for opening in re.finditer(r"\{#", line):
                    if "#}" not in line[opening.end() :]:
                        unclosed.append(f"{template.relative_to(ROOT)}:{number}")
    assert not unclosed, "use {% comment %} for comments over several lines: " + ", ".join(unclosed)


def test_the_sign_in_page_prints_no_template_syntax_and_names_no_zone(client) -> None:
    response = client.get(reverse("login"))

    text = response.content.decode()
    for syntax in ("{#", "#}", "{%", "{{"):
        assert syntax not in text
    assert "Times are shown in" not in text, "the sign-in page shows no times"
    assert 'rel="icon"' in text


def test_signed_in_pages_name_the_zone_as_people_say_it(client, riverbend) -> None:
    client.force_login(riverbend.cio)

    response = client.get(reverse("incidents:list"))

    assert "Times are shown in Central Time." in response.content.decode()
    assert "America/Chicago" not in response.content.decode()


def test_the_browser_finds_an_icon_at_the_usual_address(client) -> None:
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"].endswith("favicon.svg")
    assert (ROOT / "static" / "favicon.svg").read_text().startswith("<svg")


def test_the_public_status_page_names_the_zone_for_families(client, lakeshore) -> None:
    response = client.get(reverse("status-page", args=[lakeshore.district.slug]))

    text = response.content.decode()
    assert "Times are in Eastern Time." in text
    assert "America/New_York" not in text
    assert 'rel="icon"' in text


def test_every_page_title_is_plain_text() -> None:
    """A title block holds a few words; markup there is shown in the browser's tab."""
    long_titles = []
    for folder in TEMPLATE_DIRS:
        for template in folder.rglob("*.html"):
            for match in re.finditer(
                r"\{% block title %\}(.*?)\{% endblock", template.read_text(), re.S
            ):
                if "<" in match.group(1) or "\n" in match.group(1):
                    long_titles.append(str(template.relative_to(ROOT)))
    assert not long_titles, f"markup in the title block of: {', '.join(long_titles)}"

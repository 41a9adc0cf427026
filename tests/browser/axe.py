"""Run axe-core in the page and fail with a readable list of WCAG 2.1 A/AA violations."""

from __future__ import annotations

from pathlib import Path

import axe_playwright_python
from playwright.sync_api import Page

# The axe-core build shipped inside axe-playwright-python; nothing is downloaded.
AXE_JS = Path(axe_playwright_python.__file__).with_name("axe.min.js")
# Pages forbid inline scripts, so axe is not added as a <script> element: Playwright's
# evaluate runs it through the DevTools protocol, which the page's policy does not govern.
_INSTALL = "() => {\n" + AXE_JS.read_text(encoding="utf-8") + "\n}"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

_RUN = """
async (tags) => {
  const results = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({target: n.target, summary: n.failureSummary})),
  }));
}
"""


def axe_violations(page: Page) -> list[dict]:
    """The page's WCAG 2.1 A and AA violations, as axe-core reports them."""
    # A navigation drops the injected script, so inject once per document.
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(_INSTALL)
    return page.evaluate(_RUN, WCAG_TAGS)


def format_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']} "
            f"<{violation['helpUrl']}>"
        )
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            lines.append(f"    at {target}")
            for detail in (node["summary"] or "").splitlines():
                lines.append(f"       {detail.strip()}")
    return "\n".join(lines)


def assert_no_axe_violations(page: Page, where: str = "") -> None:
    """Fail listing rule id, impact, help and the selectors of every offending node."""
    violations = axe_violations(page)
    label = where or page.url
    assert not violations, (
        f"axe found {len(violations)} WCAG 2.1 A/AA violation(s) on {label} "
        f"({page.viewport_size['width'] if page.viewport_size else '?'} px wide):\n"
        + format_violations(violations)
    )

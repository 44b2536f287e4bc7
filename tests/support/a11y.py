"""Accessibility checks in a real browser: axe-core (vendored, tests/support/axe/) against WCAG 2.2
AA, sideways scrolling at a width, and keyboard focus that is visible and stays where it is seen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE = Path(__file__).resolve().parent / "axe" / "axe.min.js"
AXE_VERSION = "4.14.1"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def axe_violations(page: Page, context: str = "document") -> list[dict[str, Any]]:
    """axe-core's violations of WCAG 2.2 A/AA on the page as it is now: rule, impact and the
    first nodes' selectors (enough to find them)."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))  # the context must bypass CSP (see `a11y_context`)
    assert page.evaluate("axe.version") == AXE_VERSION
    found: list[dict[str, Any]] = page.evaluate(
        """async ([context, tags]) => {
            const result = await axe.run(context === 'document' ? document : context, {
                runOnly: { type: 'tag', values: tags },
                resultTypes: ['violations'],
            });
            return result.violations.map((v) => ({
                id: v.id,
                impact: v.impact,
                help: v.help,
                nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
            }));
        }""",
        [context, TAGS],
    )
    return found


def sideways_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than its viewport (0: no sideways scrolling)."""
    width: int = page.evaluate(
        "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - document.documentElement.clientWidth"
    )
    return max(width, 0)


FOCUSED = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const style = getComputedStyle(el);
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
    const r = el.getBoundingClientRect();
    // Hidden entirely (WCAG 2.4.11) when something else is drawn at its middle and at each corner.
    const at = (fx, fy) => {
        const x = Math.min(Math.max(r.left + 2 + (r.width - 4) * fx, 0), innerWidth - 1);
        const y = Math.min(Math.max(r.top + 2 + (r.height - 4) * fy, 0), innerHeight - 1);
        const top = document.elementFromPoint(x, y);
        return !!top && top !== el && !el.contains(top) && !top.contains(el);
    };
    const points = [[0.5, 0.5], [0, 0], [1, 0], [0, 1], [1, 1]];
    return {
        key: el.dataset.testid || el.id || el.getAttribute('aria-label')
            || (el.textContent || '').trim().slice(0, 40) || el.tagName,
        tag: el.tagName,
        visible: outline || style.boxShadow !== 'none',
        covered: points.every(([fx, fy]) => at(fx, fy)),
        widget: !!el.closest('.gbw-root'),
    };
}"""


def tab_walk(page: Page, presses: int, backwards: bool = False) -> list[dict[str, Any]]:
    """Press Tab (or Shift+Tab) `presses` times; what had focus after each press."""
    seen = []
    for _ in range(presses):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        focused = page.evaluate(FOCUSED)
        if focused is not None:
            seen.append(focused)
    return seen


def tabbable(page: Page) -> list[str]:
    """The keys (as `tab_walk` names them) of every visible control a keyboard user should
    reach."""
    keys: list[str] = page.evaluate(
        """() => [...document.querySelectorAll(
              'a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]),'
              + ' select:not([disabled]), textarea:not([disabled]), [tabindex="0"], summary')]
            .filter((el) => el.getClientRects().length && !el.closest('[inert]')
                && getComputedStyle(el).visibility !== 'hidden'
                // in a closed <details> only its own summary can take focus
                && (!el.closest('details:not([open])')
                    || (el.tagName === 'SUMMARY'
                        && el.parentElement === el.closest('details:not([open])'))))
            .map((el) => el.dataset.testid || el.id || el.getAttribute('aria-label')
                || (el.textContent || '').trim().slice(0, 40) || el.tagName)"""
    )
    return keys

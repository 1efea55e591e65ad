// Accessibility checks of the pages people use, run by swap.mjs once a swap request exists:
// axe-core (no serious or critical violations), `lang` set, exactly one `main` landmark, no
// sideways overflow on a phone, and controls at least 24 px tall (WCAG 2.2 target size; links
// inside running text are exempt, as WCAG exempts them). Each page is checked at 390 px (a phone)
// and 1280 px wide. A failure prints every violation with the element it found.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/// Audits `paths` (relative to `base`) in a new context of `browser`; `signIn(page)` signs the
/// context's page in first when given. Returns a list of problems (empty when all pass).
export async function audit(browser, base, paths, signIn) {
  const problems = [];
  for (const width of [390, 1280]) {
    // The pages' CSP allows no scripts at all; axe is injected by the test, so it bypasses it.
    const context = await browser.newContext({ viewport: { width, height: 900 }, bypassCSP: true });
    const page = await context.newPage();
    if (signIn) await signIn(page);
    for (const path of paths) {
      const res = await page.goto(`${base}${path}`);
      const where = `${path} at ${width}px`;
      if (!res || res.status() >= 400) {
        problems.push(`${where}: answered ${res && res.status()}`);
        continue;
      }
      await page.evaluate(AXE);
      const result = await page.evaluate(async () =>
        // eslint-disable-next-line no-undef
        await axe.run(document, { resultTypes: ['violations'] }));
      for (const v of result.violations) {
        if (v.impact === 'serious' || v.impact === 'critical') {
          const nodes = v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ');
          problems.push(`${where}: axe ${v.impact} ${v.id}: ${v.help} (${nodes})`);
        }
      }
      const facts = await page.evaluate(() => {
        const inText = (el) => el.tagName === 'A' && getComputedStyle(el).display === 'inline'
          && el.closest('p, li, td, dd') !== null && !el.closest('nav');
        const small = [...document.querySelectorAll('a[href], button, select, input:not([type=hidden]), textarea')]
          .filter((el) => el.getClientRects().length > 0 && !inText(el))
          .filter((el) => el.getBoundingClientRect().height < 24)
          .map((el) => `${el.tagName.toLowerCase()} "${(el.textContent || el.name || '').trim().slice(0, 30)}" ${el.getBoundingClientRect().height.toFixed(1)}px`);
        return {
          lang: document.documentElement.lang,
          mains: document.querySelectorAll('main, [role=main]').length,
          overflow: document.documentElement.scrollWidth - window.innerWidth,
          small,
        };
      });
      if (!facts.lang) problems.push(`${where}: <html> has no lang`);
      if (facts.mains !== 1) problems.push(`${where}: ${facts.mains} main landmarks, want 1`);
      if (facts.overflow > 0) problems.push(`${where}: scrolls sideways by ${facts.overflow}px`);
      for (const s of facts.small) problems.push(`${where}: control under 24px tall: ${s}`);
      console.log(`a11y: ${where}: ${result.violations.length} axe finding(s)`
        + `${result.violations.map((v) => ` ${v.id} (${v.impact})`).join(',')}`);
    }
    await context.close();
  }
  return problems;
}

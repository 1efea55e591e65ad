// End-to-end: headless Chromium signs in, proposes a swap, accepts it as the colleague, and sees
// the schedule page change; then one person gives a colleague a single day of their week and the
// schedule shows that day alone moved. Run by scripts/e2e.sh, which starts the server and passes:
//   node swap.mjs BASE_URL TOKENS_JSON SCREENSHOT_PATH
// TOKENS_JSON maps every person id to an API token. Who trades is chosen from the slots the API
// lists for the Support Hero rotation on the day the test runs (the next two weeks, held by two
// different people by the rotation order, with no override), so the test passes on any date.
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { audit } from './a11y.mjs';

const [base, tokensFile, shot] = process.argv.slice(2);
const tokens = JSON.parse(readFileSync(tokensFile, 'utf8'));

function check(ok, what) {
  if (!ok) throw new Error(`e2e: ${what}`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  // playwright-core makes a fresh, empty user-data-dir itself.
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const context = await browser.newContext({ viewport: { width: 1000, height: 800 } });
  context.setDefaultTimeout(10000);
  const page = await context.newPage();
  const view = await context.newPage(); // a second tab that reads the schedule page
  // E2E_DEBUG=1 logs every form post with its headers.
  if (process.env.E2E_DEBUG) {
    page.on('request', async (r) => {
      if (r.method() === 'POST') console.error(r.url(), await r.allHeaders(), r.postData());
    });
  }

  // The two weeks to trade: the first two Support Hero slots that have not started, that the
  // schedule page shows (it lists the same 8 weeks as the slots API's default), and whose people
  // differ and hold them by the order (an override's shift cannot be traded).
  const res = await fetch(`${base}/api/v1/rotations/support-hero/slots`);
  check(res.ok, `GET slots answered ${res.status}`);
  const now = Date.now();
  const open = (await res.json()).filter((s) => Date.parse(s.start) > now && s.on_call.length === 1
    && s.on_call[0].person.id === s.member && s.on_call[0].source === 'rotation');
  const first = open[0];
  const second = open.find((s) => s.member !== first?.member);
  check(first && second, `two tradeable Support Hero weeks in the next 8 (slots: ${JSON.stringify(open)})`);
  const a = first.on_call[0].person;
  const b = second.on_call[0].person;
  const A = a.name;
  const B = b.name;

  async function signIn(token, name) {
    await page.goto(`${base}/signin`);
    await page.fill('input[name=token]', token);
    await Promise.all([page.waitForURL(`${base}/me`), page.click('form[action="/signin"] button')]);
    check((await page.textContent('h1')).trim() === name, `signed in as ${name}`);
  }
  async function signOut() {
    await Promise.all([page.waitForURL(/\/signin$|\/$/), page.click('form[action="/signout"] button')]);
  }
  // The Support Hero row on the schedule page that starts at `from`: who is on call.
  async function heroAt(from) {
    await view.goto(`${base}/`);
    const rows = view.locator('h2#support-hero + p + div table tbody tr');
    for (const r of await rows.all()) {
      const cells = await r.locator('td').allTextContents();
      if (cells[0] === from) return cells[2];
    }
    throw new Error(`e2e: no Support Hero shift starting ${from} on the schedule page`);
  }

  // A proposes: trade their next Support Hero week for one of B's.
  await signIn(tokens[a.id], A);
  await page.click(`a[href="/swaps/new?rotation=support-hero&slot=${first.slot}"]`);
  const mine = (await page.textContent('p:has-text("Your Support Hero shift") strong')).trim();
  // The form's steps: a colleague first, then only their shifts that can be traded.
  await page.selectOption('select[name=counterpart]', b.id);
  await Promise.all([page.waitForURL(/counterpart=/), page.click('button:text("Next")')]);
  const theirs = page.locator(`select[name=their_slot] option[value="${second.slot}"]`);
  const theirLabel = (await theirs.textContent()).trim();
  check(theirLabel.endsWith(`– ${B}`), `the form offers ${B}'s week (got ${theirLabel})`);
  await page.selectOption('select[name=their_slot]', String(second.slot));
  const their = theirLabel.split(' – ')[0];
  check((await heroAt(mine)).startsWith(A) && (await heroAt(their)).startsWith(B),
    `before the swap, ${A} has ${mine} and ${B} has ${their}`);
  // Success redirects to /swaps/{id}; a refusal answers the post at /swaps/new (no query).
  await Promise.all([
    page.waitForURL((u) => u.pathname.startsWith('/swaps/') && u.search === ''),
    page.click('form[action="/swaps/new"] button'),
  ]);
  const swapUrl = page.url();
  check(!swapUrl.endsWith('/swaps/new'),
    `the request was sent (got ${swapUrl}: ${await page.textContent('body')})`);
  check((await page.textContent('.tag')).trim() === 'pending', 'the new request is pending');
  await page.goto(`${base}/me`);
  await signOut();

  // B accepts.
  await signIn(tokens[b.id], B);
  check(await page.locator(`a[href="${new URL(swapUrl).pathname}"]`).count() === 1,
    `${B} sees the request on their page`);
  await page.goto(swapUrl);
  await page.click('button:text("Accept")');
  // The post redirects back to the same page, now saying "accepted".
  await page.locator('.tag', { hasText: 'accepted' }).waitFor().catch(async () => {
    throw new Error(`e2e: the request was not accepted: ${await page.textContent('body')}`);
  });

  // The schedule page changed: B in A's former week, A in B's, both marked as overrides.
  const nowMine = await heroAt(mine);
  const nowTheirs = await heroAt(their);
  check(nowMine.startsWith(B) && nowMine.includes('override'), `${B} now has ${mine} (got ${nowMine})`);
  check(nowTheirs.startsWith(A) && nowTheirs.includes('override'), `${A} now has ${their} (got ${nowTheirs})`);

  // A day, not a week: the person of a later open week asks a colleague to cover its second day
  // only, through the form's "which part" choice; once accepted, the schedule shows the colleague
  // on that day and the owner before and after it.
  const third = open.find((s) => s.slot !== first.slot && s.slot !== second.slot);
  check(third, `a third open Support Hero week (slots: ${JSON.stringify(open)})`);
  const c = third.on_call[0].person;
  const d = [a, b].find((p) => p.id !== c.id);
  await page.goto(`${base}/me`);
  await signOut();
  await signIn(tokens[c.id], c.name);
  await page.goto(`${base}/swaps/new?rotation=support-hero&slot=${third.slot}&counterpart=${d.id}`);
  const days = page.locator('input[name=part][value*="/"]');
  check(await days.count() === 7, `the form offers the 7 days of the week (got ${await days.count()})`);
  const day = days.nth(1);
  const dayLabel = (await day.locator('xpath=..').textContent()).trim();
  const [dayFrom, dayTo] = dayLabel.split(' to ');
  await day.check();
  await Promise.all([
    page.waitForURL((u) => u.pathname.startsWith('/swaps/') && u.search === ''),
    page.click('form[action="/swaps/new"] button'),
  ]);
  const dayUrl = page.url();
  check(!dayUrl.endsWith('/swaps/new'), `the day's request was sent (got ${await page.textContent('body')})`);
  await page.goto(`${base}/me`);
  await signOut();
  await signIn(tokens[d.id], d.name);
  await page.goto(dayUrl);
  await page.click('button:text("Accept")');
  await page.locator('.tag', { hasText: 'accepted' }).waitFor();
  const onDay = await heroAt(dayFrom);
  const after = await heroAt(dayTo);
  check(onDay.startsWith(d.name) && onDay.includes('override'), `${d.name} covers ${dayFrom} (got ${onDay})`);
  check(after.startsWith(c.name), `${c.name} has the rest of the week from ${dayTo} (got ${after})`);
  console.log(`e2e: ${d.name} covers ${c.name}'s ${dayFrom} to ${dayTo}, and only that day`);

  await page.goto(`${base}/`);
  await page.locator('h2#support-hero').waitFor();
  await page.screenshot({ path: shot, fullPage: false });
  console.log(`e2e: ${A} and ${B} swapped ${mine} and ${their}; screenshot in ${shot}`);

  // The pages people use, signed out and signed in, pass the accessibility checks.
  const request = new URL(swapUrl).pathname;
  const signedOut = await audit(browser, base, ['/', '/signin', '/report']);
  const signedIn = await audit(browser, base,
    ['/', '/me', '/swaps/new', `/swaps/new?rotation=support-hero&slot=${first.slot}`,
      `/swaps/new?rotation=support-hero&slot=${first.slot}&counterpart=${b.id}`, request, '/report',
      `/shifts/support-hero/${first.slot}`],
    async (p) => {
      await p.goto(`${base}/signin`);
      await p.fill('input[name=token]', tokens[a.id]);
      await Promise.all([p.waitForURL(`${base}/me`), p.click('form[action="/signin"] button')]);
    });
  const problems = [...signedOut, ...signedIn];
  for (const p of problems) console.error(`a11y: ${p}`);
  check(problems.length === 0, `${problems.length} accessibility problem(s), listed above`);
} finally {
  await browser.close();
}

// The campaign page follows a running campaign live, in headless Chromium
// (browserkit.mjs: Debian's chromium driven by playwright-core). Run by
// e2e/campaign_test.go (TestCampaignOnDev) against `voxflow dev`:
//
//   VOXFLOW_URL=... VOXFLOW_USER=... VOXFLOW_PASSWORD=... VOXFLOW_CAMPAIGN=ID \
//     VOXFLOW_CAMPAIGN_DONE=N VOXFLOW_CAMPAIGN_DIALS=N VOXFLOW_READY_FILE=PATH \
//     node --test e2e/testdata/campaign.test.mjs
//
// It opens the campaign's page before the campaign starts, writes
// VOXFLOW_READY_FILE once the page is live with no contact done, and then,
// without reloading, waits until the page shows N contacts done and N dials
// over 30 days, having seen the done count climb in between.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { env, browser, signIn, until, realErrors } from '../../designer-api/web/e2e/browserkit.mjs';

const CAMPAIGN = process.env.VOXFLOW_CAMPAIGN || '';
const DONE = process.env.VOXFLOW_CAMPAIGN_DONE || '';
const DIALS = process.env.VOXFLOW_CAMPAIGN_DIALS || '';
const READY = process.env.VOXFLOW_READY_FILE || '';

test('the campaign page shows the figures change live', {
  skip: !(CAMPAIGN && READY) && 'set VOXFLOW_CAMPAIGN and VOXFLOW_READY_FILE (e2e/campaign_test.go does)', timeout: 150_000,
}, async () => {
  assert.ok(env.password, 'set VOXFLOW_PASSWORD (and VOXFLOW_USER, VOXFLOW_URL)');
  const b = await browser('', 'campaign');
  try {
    const { page } = b;
    await signIn(page, env.user, env.password, `/campaigns/${encodeURIComponent(CAMPAIGN)}`);
    await page.locator('.stream-status', { hasText: 'Live' }).waitFor();
    const done = page.locator('[data-contacts=done] td');
    await until('the page showing no contact done', async () => (await done.textContent()) === '0');
    await b.shot('campaign-before.png');
    fs.writeFileSync(READY, 'ready\n');

    // The stream redraws the page every second: keep each count it shows.
    const seen = new Set(['0']);
    await until(`${DONE} contacts done on the page`, async () => {
      const n = await done.textContent();
      seen.add(n);
      return n === DONE;
    }, 120_000);
    const dials = page.locator('[data-kpi=dials] dd.small');
    await until(`${DIALS} dials over 30 days on the page`, async () => (await dials.textContent()).startsWith(`${DIALS} over 30 days`));
    await b.shot('campaign-after.png');
    assert.ok(seen.size >= 3, `the done count went ${[...seen].join(' → ')}: want it to climb in steps, live`);
    assert.deepEqual(realErrors(b.errors), []);
    console.log(`done counts seen: ${[...seen].join(' → ')}`);
  } finally {
    await b.close();
  }
});

// End-to-end test of web chat in headless Chromium, run by
// e2e/browser_test.go against `voxflow dev`: a visitor chats with number
// 6300 (flow browser-chat) through the demo page's widget and answers its
// menu in text; the queue offers the chat to agent alice's desk, who
// accepts it; they write both ways; a reload of the visitor's page resumes
// the chat (token in localStorage, transcript replayed); alice ends it and
// the flow says goodbye. The CDR keeps the transcript.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { env, skip, browser, signIn, adminAPI, until, realErrors } from './browserkit.mjs';

const NUMBER = '6300';
const W = '#voxflow-widget';

test('web chat through a menu to the agent desk', { skip, timeout: 150_000 }, async () => {
  const agent = await browser(env.agentVoice, 'chat-agent');
  const visitor = await browser(env.customerVoice, 'chat-visitor');
  const api = await adminAPI();
  const desk = agent.page;
  const page = visitor.page;
  try {
    await signIn(desk, env.agent, env.agentPassword, '/agent');
    await desk.locator('[data-conn=connected]').waitFor();
    await desk.locator('[data-state=available]').click();
    await desk.locator('[data-agent-state=available]').waitFor();

    // The visitor starts a chat and answers the menu in text.
    await page.goto(`${env.base}/widget/demo?number=${NUMBER}`);
    await page.locator(`${W} button.launch`).click();
    await page.locator(`${W} [data-action=chat]`).click();
    await page.locator(`${W} li[data-from=flow], ${W} .error:not(:empty)`).first().waitFor({ timeout: 30_000 });
    assert.equal(await page.locator(`${W} .error`).textContent(), '', 'the widget shows no error');
    await page.locator(`${W} li[data-from=flow]`, { hasText: 'For billing type 2' }).waitFor();
    const { token, id } = await until('the chat token', () => page.evaluate(() => {
      const c = document.getElementById('voxflow-widget').voxflow.chat;
      return c.token && c;
    }));
    assert.equal(await page.evaluate((k) => localStorage.getItem(k), `voxflow-chat:${env.base}:${NUMBER}`), token);
    await page.locator(`${W} textarea`).fill('2');
    await page.keyboard.press('Enter');
    await page.locator(`${W} li[data-from=you]`, { hasText: '2' }).waitFor();

    // The queue offers it to the desk.
    const offer = desk.locator('[data-chat-offer]');
    await offer.waitFor({ timeout: 60_000 });
    assert.match(await offer.innerText(), /Chat offered/);
    await agent.shot('chat-01-offer.png');
    await offer.locator('[data-action=chat-accept]').click();
    const panel = desk.locator('.chat-panel');
    await panel.locator('li[data-from=customer]', { hasText: '2' }).waitFor();
    await page.locator(`${W} .log li.note`, { hasText: 'joined the chat' }).waitFor({ timeout: 20_000 });

    // Both ways.
    await panel.locator('textarea').fill('Hello, this is Alice from billing. How can I help?');
    await desk.keyboard.press('Enter');
    await page.locator(`${W} li[data-from=agent]`, { hasText: 'How can I help?' }).waitFor();
    assert.equal(await panel.locator('textarea').inputValue(), '', 'the desk\'s message field is empty once sent');
    await page.locator(`${W} textarea`).fill('My last invoice is wrong.');
    await page.keyboard.press('Enter');
    await panel.locator('li[data-from=customer]', { hasText: 'invoice is wrong' }).waitFor();

    // A reload resumes the chat with its transcript.
    await page.reload();
    await page.locator(`${W} li[data-from=agent]`, { hasText: 'How can I help?' }).waitFor({ timeout: 20_000 });
    await page.locator(`${W} li[data-from=you]`, { hasText: 'invoice is wrong' }).waitFor();
    await page.locator(`${W} textarea`).fill('Are you still there?');
    await page.keyboard.press('Enter');
    await panel.locator('li[data-from=customer]', { hasText: 'still there' }).waitFor();
    await visitor.shot('chat-02-visitor.png');
    await agent.shot('chat-03-desk.png');

    // The agent ends it: the flow goes on and says goodbye.
    await panel.locator('[data-action=chat-end]').click();
    await page.locator(`${W} li[data-from=flow]`, { hasText: 'Goodbye' }).waitFor({ timeout: 30_000 });
    await page.locator(`${W} p.status`, { hasText: 'The chat has ended.' }).waitFor({ timeout: 30_000 });
    assert.equal(await page.evaluate((k) => localStorage.getItem(k), `voxflow-chat:${env.base}:${NUMBER}`), null);

    const rec = await until('the chat CDR with its transcript', async () => {
      const r = await api.get(`cdrs/${encodeURIComponent(id)}`);
      return r.transcript && r.transcript.length && r;
    }, 30_000);
    const lines = rec.transcript.map((l) => `${l.from}: ${l.text}`).join('\n');
    assert.equal(rec.channel, 'chat');
    assert.match(rec.path.map((s) => s.node).join('>'), /^main_menu>billing>wait>(.*>)?bye$/); // the hold flow's nodes may come between
    assert.match(lines, /customer: My last invoice is wrong\./);
    assert.match(lines, /agent: Hello, this is Alice/);
    assert.deepEqual(realErrors(agent.errors), [], 'no console errors on the desk');
    assert.deepEqual(realErrors(visitor.errors), [], 'no console errors on the widget');
  } finally {
    await api.close();
    await visitor.close();
    await agent.close();
  }
});

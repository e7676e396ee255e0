// Attack, in a real browser: a page on another origin (127.0.0.2, as any web site the developer
// visits) tries every way a page can POST to the node's kit RPC without the user's help: a
// no-cors fetch with a text/plain body (no preflight), a fetch with a JSON content type (which
// needs a preflight), and an auto-submitted form with enctype text/plain whose fields spell out
// JSON. Its messages would overwrite the victim's file and kill the bystander. Before the fix the
// first one got through (the sweep killed a process this way). Now the node refuses each one,
// and nothing changes.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CHROMIUM, launchChromium, NO_CHROMIUM, otherOrigin } from './browser.js';
import { assertIntact, bootTarget, ECHO, rpcBody, type Target, VICTIM } from './helpers.js';

function attackPage(rpcUrl: string, overwrite: string, kill: string): string {
  // The form trick: one field whose name is the JSON up to a string, and whose value closes it;
  // text/plain encodes it as `name=value`, which is valid JSON again.
  const cut = kill.lastIndexOf('"mime"');
  const formName = `${kill.slice(0, cut)}"pad":"`;
  const formValue = `",${kill.slice(cut)}`;
  const attr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
  return `<!doctype html>
<html><body>
<iframe name="sink" id="sink"></iframe>
<form id="f" method="POST" enctype="text/plain" action="${rpcUrl}" target="sink">
<input type="hidden" name="${attr(formName)}" value="${attr(formValue)}">
</form>
<script>
const url = ${JSON.stringify(rpcUrl)};
window.results = [];
async function attack() {
  const tries = [
    fetch(url, { method: 'POST', mode: 'no-cors', body: ${JSON.stringify(overwrite)} }),
    fetch(url, { method: 'POST', mode: 'no-cors', body: ${JSON.stringify(kill)} }),
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: ${JSON.stringify(kill)} }),
  ];
  for (const r of await Promise.allSettled(tries)) window.results.push(r.status === 'fulfilled' ? 'answered:' + r.value.type : 'failed');
  await new Promise((resolve) => {
    document.getElementById('sink').onload = resolve;
    document.getElementById('f').submit();
  });
  window.results.push('form');
  return window.results;
}
</script>
</body></html>`;
}

describe('attack: a page on another origin messages the node', { timeout: 900_000, skip: NO_CHROMIUM }, () => {
  let t: Target;

  before(async () => {
    t = await bootTarget();
  });
  after(async () => {
    await t?.stop();
  });

  it(`cannot reach any process through the kit RPC (Chromium at ${CHROMIUM})`, async () => {
    const overwrite = rpcBody(VICTIM, {
      Send: {
        target: 'vfs:distro:sys',
        body64: Buffer.from(JSON.stringify({ path: '/victim:kit-tests.os/data/precious.txt', action: 'Write' })).toString('base64'),
        blob64: Buffer.from('pwned').toString('base64'),
        mime: null,
        metadata: null,
        timeout: 5,
        attachAll: false,
      },
    });
    const kill = rpcBody('kernel:distro:sys', { KillProcess: ECHO });
    const rpcUrl = `http://localhost:${t.node.port}/rpc:distro:sys/message`;
    const site = await otherOrigin((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(attackPage(rpcUrl, overwrite, kill));
    });
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      await page.goto(`${site.origin}/attack.html`);
      const results = (await page.evaluate('attack()')) as string[];
      // The two no-cors fetches are sent (opaque answers), the JSON one dies at its preflight,
      // and the form is submitted.
      assert.deepEqual(results, ['answered:opaque', 'answered:opaque', 'failed', 'form']);
    } finally {
      await browser.close();
      site.server.close();
    }
    // Three requests arrived (the JSON one never left the browser) and each was refused.
    const refusals = t.printed().match(/refused an RPC: the RPC does not answer web pages/g) ?? [];
    assert.equal(refusals.length, 3, t.printed());
    await assertIntact(t);
  });
});

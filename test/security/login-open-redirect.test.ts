// Attack: a link to the node's login page whose `redirect` leads to another site, so that a
// developer who logs in lands on the attacker's page (which can then pose as the node). Browsers
// drop tabs and newlines anywhere in a URL and read a backslash as a slash, so `/<TAB>/host`
// passed the old check and became `//host`; `%0A` made the node answer a broken "500 See Other".
// Now only same-origin paths are followed; anything else goes to `/`.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { launchChromium, NO_CHROMIUM, otherOrigin } from './browser.js';
import { assertIntact, bootTarget, rawRequest, type Target } from './helpers.js';

describe('attack: an open redirect after login', { timeout: 600_000 }, () => {
  let t: Target;

  before(async () => {
    t = await bootTarget();
  });
  after(async () => {
    await t?.stop();
  });

  const cases: Array<[string, string]> = [
    ['/%09/127.0.0.2:9/pwned', '/'],
    ['/%0A/127.0.0.2:9/pwned', '/'],
    ['/%0D%0ASet-Cookie:%20x=y', '/'],
    ['/%5C127.0.0.2:9/pwned', '/'],
    ['//127.0.0.2:9/pwned', '/'],
    ['http://127.0.0.2:9/pwned', '/'],
    ['/victim/page?x=1', '/victim/page?x=1'],
    ['/caf%C3%A9 menu', '/caf%C3%A9%20menu'],
  ];
  for (const [redirect, location] of cases) {
    it(`a login with redirect=${redirect} goes to ${location}`, async () => {
      const r = await rawRequest(t.node.port, {
        method: 'POST',
        path: `/login?redirect=${redirect.replace(/ /g, '%20')}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'password=secret',
      });
      assert.equal(r.status, 303, r.body);
      assert.equal(r.headers.location, location);
    });
  }

  it('a real browser that logs in through such a link stays on the node', { skip: NO_CHROMIUM }, async () => {
    const site = await otherOrigin((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<h1>pwned</h1>');
    });
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const host = new URL(site.origin).host;
      await page.goto(`http://localhost:${t.node.port}/login?redirect=/%09/${host}/pwned`);
      await page.fill('#password', 'secret');
      await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.click('button[type=submit]')]);
      const landed = new URL(page.url());
      assert.equal(landed.host, `localhost:${t.node.port}`, `the browser left the node for ${page.url()}`);
      assert.deepEqual(site.hits, [], 'the other site was never visited');
    } finally {
      await browser.close();
      site.server.close();
    }
    await assertIntact(t);
  });
});

// Attack: guess the node's password at /login as fast as possible (the sweep made 1,321 guesses a
// second). Now a client gets LOGIN_FAILURES_PER_WINDOW wrong passwords per minute; after that
// /login answers 429 with Retry-After, even to the right password, until the minute has passed.
// Other clients are not locked out by it.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LOGIN_FAILURES_PER_WINDOW } from '../../src/runtime/modules/http-server/auth.js';
import { assertIntact, bootTarget, rawRequest, type Target } from './helpers.js';

describe('attack: guessing the login password', { timeout: 600_000 }, () => {
  let t: Target;

  before(async () => {
    t = await bootTarget();
  });
  after(async () => {
    await t?.stop();
  });

  const login = (password: string, localAddress = '127.0.0.1') =>
    rawRequest(t.node.port, {
      method: 'POST',
      path: '/login',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ password_hash: password, subdomain: null }),
      localAddress,
    });

  it(`allows ${LOGIN_FAILURES_PER_WINDOW} wrong passwords, then answers 429 to that client only`, async () => {
    for (let i = 0; i < LOGIN_FAILURES_PER_WINDOW; i++) assert.equal((await login(`guess-${i}`)).status, 401);
    const limited = await login('guess-again');
    assert.equal(limited.status, 429, limited.body);
    assert.match(limited.body, /too many wrong passwords from 127\.0\.0\.1: try again in \d+ s/);
    assert.match(String(limited.headers['retry-after']), /^\d+$/);
    // Not even the right password gets through while the client is limited.
    assert.equal((await login('secret')).status, 429);
    // Another client still logs in.
    const other = await login('secret', '127.0.0.3');
    assert.equal(other.status, 200, other.body);
    assert.match(String(other.headers['set-cookie']), /^hyperware-auth_fake\.dev=/);
    await assertIntact(t);
  });
});

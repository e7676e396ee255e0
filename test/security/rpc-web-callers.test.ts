// Attack: message the node through its kit RPC from somewhere other than a program on this
// machine: a page on another origin (it can POST text/plain with no preflight), a page reached
// through DNS rebinding (Host is the attacker's name), a browser request that hides its Origin,
// and a request relayed by a proxy (RFC 7239 Forwarded). Before the fix, all of them reached the
// kernel. Each now gets 403 with the reason and reaches nothing, while the real kit's request
// (kit-vs-real-kit.md §1: reqwest's .json(): Content-Type application/json, Host as in the URL, no
// Origin) and our kit's still work.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertIntact, bootTarget, ECHO, rawRequest, rpc, rpcBody, type Target } from './helpers.js';

/** What an attacker sends: kill the bystander. */
const KILL_ECHO = rpcBody('kernel:distro:sys', { KillProcess: ECHO });

describe('attack: the kit RPC from a web page, a rebound name or a proxy', { timeout: 600_000 }, () => {
  let t: Target;

  before(async () => {
    t = await bootTarget();
  });
  after(async () => {
    await t?.stop();
  });

  it("answers the real kit's request and ours", async () => {
    const port = t.node.port;
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`]) {
      const r = await rawRequest(port, {
        method: 'POST',
        path: '/rpc:distro:sys/message',
        headers: { host, 'content-type': 'application/json', accept: '*/*' },
        body: rpcBody(ECHO, 'from the real kit'),
      });
      assert.equal(r.status, 200, `${host}: ${r.body}`);
    }
    assert.equal((await rpc(t.node.url, ECHO, 'from our kit')).body, 'from our kit');
  });

  const refusals: Array<{ name: string; headers: (port: number) => Record<string, string>; why: RegExp }> = [
    {
      name: 'a page on another origin (text/plain, no preflight)',
      headers: (port) => ({ host: `localhost:${port}`, origin: 'http://127.0.0.2:8000', 'content-type': 'text/plain;charset=UTF-8' }),
      why: /does not answer web pages.*Origin "http:\/\/127\.0\.0\.2:8000"/,
    },
    {
      name: "a page on the node's own origin",
      headers: (port) => ({ host: `localhost:${port}`, origin: `http://localhost:${port}`, 'content-type': 'application/json' }),
      why: /does not answer web pages/,
    },
    {
      name: 'a DNS-rebinding page (its own name in Host)',
      headers: (port) => ({ host: `attacker.example:${port}`, 'content-type': 'text/plain' }),
      why: /only requests addressed to this machine.*attacker\.example/,
    },
    {
      name: 'a browser request without Origin (Sec-Fetch-Site says so)',
      headers: (port) => ({ host: `localhost:${port}`, 'sec-fetch-site': 'cross-site', 'content-type': 'text/plain' }),
      why: /does not answer web pages \(this request came from a browser\)/,
    },
    {
      name: 'a request through a proxy (RFC 7239 Forwarded)',
      headers: (port) => ({ host: `localhost:${port}`, forwarded: 'for=192.0.2.60;proto=http', 'content-type': 'application/json' }),
      why: /came through a proxy \(forwarded header\)/,
    },
  ];
  for (const r of refusals) {
    it(`refuses ${r.name} with 403 and the reason, and the message reaches nothing`, async () => {
      const answer = await rawRequest(t.node.port, { method: 'POST', path: '/rpc:distro:sys/message', headers: r.headers(t.node.port), body: KILL_ECHO });
      assert.equal(answer.status, 403, answer.body);
      assert.match(answer.body, r.why);
      await assertIntact(t); // the bystander answers: the kill never reached the kernel
    });
  }
});

// The node's login tokens and the /login body parsing (auth.ts), without a server.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createNodeAuth, LOGIN_LIFETIME_SECS, parseLogin, safeRedirect } from '../../src/runtime/modules/http-server/auth.js';

describe('node login tokens', () => {
  const auth = createNodeAuth({ our: 'fake.dev', password: 'secret' });

  it('verifies its own token for the cookie it was made for, until it expires', () => {
    const now = 1_800_000_000;
    const token = auth.sign(null, now);
    assert.equal(auth.verify(token, 'hyperware-auth_fake.dev', now + 1), true);
    assert.equal(auth.verify(token, 'hyperware-auth_fake.dev', now + LOGIN_LIFETIME_SECS), false, 'expired');
    assert.equal(auth.verify(token, 'hyperware-auth_fake.dev@chat:chat:template.os', now), false, 'not for a subdomain');
    const sub = auth.sign('chat:chat:template.os', now);
    assert.equal(auth.verify(sub, 'hyperware-auth_fake.dev@chat:chat:template.os', now), true);
    assert.equal(auth.verify(sub, 'hyperware-auth_fake.dev', now), false);
  });

  it('refuses tampered tokens and tokens of another node or secret', () => {
    const token = auth.sign(null);
    const [h, , s] = token.split('.');
    const forgedClaims = Buffer.from(JSON.stringify({ username: 'fake.dev', subdomain: null, expiration: 4_000_000_000 })).toString('base64url');
    assert.equal(auth.verify(`${h}.${forgedClaims}.${s}`, 'hyperware-auth_fake.dev'), false);
    assert.equal(auth.verify('not-a-jwt', 'hyperware-auth_fake.dev'), false);
    const other = createNodeAuth({ our: 'fake.dev', password: 'secret' });
    assert.equal(other.verify(token, 'hyperware-auth_fake.dev'), false, 'another boot signs with another secret');
    const fake2 = createNodeAuth({ our: 'fake2.dev', password: 'secret', secret: new Uint8Array(32) });
    const same = createNodeAuth({ our: 'fake.dev', password: 'secret', secret: new Uint8Array(32) });
    assert.equal(same.verify(fake2.sign(null), 'hyperware-auth_fake.dev'), false, "another node's name");
  });

  it('checks the password', () => {
    assert.equal(auth.checkPassword('secret'), true);
    assert.equal(auth.checkPassword('Secret'), false);
    assert.equal(auth.checkPassword(''), false);
  });

  it("reads Hyperdrive's JSON body, the page's form, and JSON sent as a form (curl -d)", () => {
    assert.deepEqual(parseLogin('application/json', '{"password_hash":"secret","subdomain":null}'), { password: 'secret', subdomain: null, form: false });
    assert.deepEqual(parseLogin('application/x-www-form-urlencoded', 'password=s%20x'), { password: 's x', subdomain: null, form: true });
    assert.deepEqual(parseLogin('application/x-www-form-urlencoded', '{"password_hash":"secret"}'), { password: 'secret', subdomain: null, form: false });
    assert.equal(parseLogin('application/json', 'nope'), undefined);
    assert.equal(parseLogin('application/json', '{"other":1}')?.password, undefined);
  });

  it('follows only same-site redirects after login', () => {
    assert.equal(safeRedirect('/chat:chat:template.os/?a=1'), '/chat:chat:template.os/?a=1');
    for (const bad of [null, '', 'https://evil.example/', '//evil.example/', '/\\evil.example']) assert.equal(safeRedirect(bad), '/');
  });
});

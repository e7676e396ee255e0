// The system processes a fake node does not provide answer at once, saying so, in the shape their
// callers parse: hyperwallet with process_lib's HyperwalletResponse (process_lib
// src/hyperwallet_client/mod.rs send_message: `success: false` + an OperationError becomes a
// ServerError), the others with {"Err": why}.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bootConformanceNode, type ConformanceNode } from './harness.js';

const HYPERWALLET = 'hyperwallet:hyperwallet:sys';
const CONTACTS = 'contacts:contacts:sys';

describe('conformance: system processes a fake node does not provide', { timeout: 180_000 }, () => {
  let c: ConformanceNode;
  const driver = () => c.driver('driver', 'unsupported-conf');

  before(async () => {
    c = await bootConformanceNode([
      {
        name: 'unsupported-conf',
        processes: [
          {
            name: 'driver',
            request_capabilities: ['http-server:distro:sys', HYPERWALLET, CONTACTS],
            grant_capabilities: ['http-server:distro:sys', HYPERWALLET, CONTACTS],
          },
        ],
      },
    ]);
  });
  after(async () => {
    await c?.stop();
  });

  it('hyperwallet answers a HyperwalletMessage with success false and an OperationNotSupported error', async () => {
    const handshake = { request: { Handshake: { ClientHello: { client_version: '0.1.0', client_name: 'conf' } } }, session_id: null };
    const r = (await driver().json(HYPERWALLET, handshake)) as { success: boolean; data: unknown; error: { code: string; message: string; details: unknown }; request_id: unknown };
    assert.deepEqual(Object.keys(r).sort(), ['data', 'error', 'request_id', 'success']);
    assert.equal(r.success, false);
    assert.equal(r.error.code, 'OperationNotSupported');
    assert.match(r.error.message, /hyperwallet:hyperwallet:sys is not supported on a fake node/);
  });

  it('contacts answers {"Err": why} at once', async () => {
    const r = (await driver().json(CONTACTS, { GetContacts: null })) as { Err: string };
    assert.match(r.Err, /contacts:contacts:sys is not supported on a fake node/);
  });
});

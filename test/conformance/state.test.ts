// state:distro:sys, as Hyperdrive 1.9.2 answers (hyperdrive/src/state.rs, lib/src/state.rs). It is
// internal: only processes of distro:sys and terminal:sys are served, so a component (a package's
// process) gets nothing back; the other cases ask as a runtime module (the harness's
// http-server:distro:sys), the way Hyperdrive's own callers do.

import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fromUtf8, systemProcess } from '../../src/core/types.js';
import { bootConformanceNode, type ConformanceNode, PUBLISHER } from './harness.js';

const STATE = 'state:distro:sys';

describe('conformance: state', { timeout: 180_000 }, () => {
  let c: ConformanceNode;
  const DRIVER = `driver:state-conf:${PUBLISHER}`;

  /** Ask as a runtime module: the answer's body text, blob text and metadata. */
  const ask = async (body: string, o: { blob?: string; metadata?: string } = {}) => {
    const r = await c.node.kernel.request(systemProcess('http-server'), STATE, body, {
      timeoutSecs: 5,
      blob: o.blob === undefined ? undefined : { bytes: new TextEncoder().encode(o.blob) },
      metadata: o.metadata,
    });
    return { body: fromUtf8(r.response.body), blob: r.blob && { mime: r.blob.mime, text: fromUtf8(r.blob.bytes) }, metadata: r.response.metadata };
  };

  before(async () => {
    c = await bootConformanceNode([
      {
        name: 'state-conf',
        processes: [{ name: 'driver', request_capabilities: ['http-server:distro:sys', STATE], grant_capabilities: ['http-server:distro:sys', STATE] }],
      },
    ]);
  });
  after(async () => {
    await c?.stop();
  });

  it('ignores a process outside distro:sys and terminal:sys ("requests must come from kernel or terminal")', async () => {
    const r = await c.driver('driver', 'state-conf').send(STATE, { GetState: DRIVER }, { timeout: 1 });
    assert.deepEqual(r, { sendError: { kind: 'timeout', target: `fake.dev@${STATE}` } });
  });

  it('SetState, GetState (blob application/octet-stream, metadata echoed), DeleteState, NotFound', async () => {
    const id = 'probe:state-conf:kit-tests.os';
    assert.equal((await ask(JSON.stringify({ SetState: id }), { blob: 'saved' })).body, '"SetState"');
    const got = await ask(JSON.stringify({ GetState: id }), { metadata: 'm' });
    assert.deepEqual(got, { body: '"GetState"', blob: { mime: 'application/octet-stream', text: 'saved' }, metadata: 'm' });
    assert.equal((await ask(JSON.stringify({ DeleteState: id }))).body, '"DeleteState"');
    assert.deepEqual(JSON.parse((await ask(JSON.stringify({ GetState: id }))).body), { Err: { NotFound: { process_id: id } } });
  });

  it('SetState without a blob is BadBytes, a body that is not a StateAction BadJson', async () => {
    assert.deepEqual(JSON.parse((await ask(JSON.stringify({ SetState: 'a:b:c' }))).body), { Err: { BadBytes: { action: 'SetState' } } });
    for (const body of ['nope', '{"GetState": "not-a-process-id"}', '"Restore"']) {
      const err = JSON.parse((await ask(body)).body) as { Err: { BadJson: { error: string } } };
      assert.match(err.Err.BadJson.error, /^parse into StateAction failed: /, body);
    }
  });

  it('Backup copies the process map and every process state to <home>/kernel/backup, replacing the last one (state.rs: Checkpoint)', async () => {
    await ask(JSON.stringify({ SetState: 'kept:state-conf:kit-tests.os' }), { blob: 'x' });
    assert.equal((await ask('"Backup"')).body, '"Backup"');
    const backup = join(c.node.home, 'kernel', 'backup');
    assert.ok(existsSync(join(backup, 'state')));
    assert.ok(readdirSync(join(backup, 'state')).some((f) => f.startsWith(encodeURIComponent('kept:state-conf:kit-tests.os'))));
    assert.equal((await ask('"Backup"', { metadata: 'again' })).metadata, 'again');
    assert.equal(existsSync(join(backup, 'backup')), false, 'a backup never holds the previous one');
  });
});

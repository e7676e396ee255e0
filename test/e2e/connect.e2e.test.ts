// `kit connect` against a real sshd on loopback: the tunnel carries HTTP to the "remote" node's
// port, the port is found by asking the host when --port is absent, and --disconnect stops the
// ssh process kit started and no other ssh (a tunnel the test opened itself stays up).

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runKit } from '../helpers/kit.js';
import { freePort } from './helpers.js';
import { canConnect, HOST_ALIAS, SSHD_BIN, startSshd, type TestSshd, waitForPort } from './sshd.js';

const skip = existsSync(SSHD_BIN) ? false : `${SSHD_BIN} is not installed (apt-get install openssh-server)`;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** An HTTP "node" on a port in 8100..8999, where kit looks for a node's port on the host. */
async function nodeServer(body: string): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => res.end(body));
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 8100 + Math.floor(Math.random() * 900);
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (ok) return { server, port };
  }
  throw new Error('no free port in 8100..8999');
}

async function get(port: number): Promise<string> {
  const r = await fetch(`http://127.0.0.1:${port}/`);
  return r.text();
}

describe('kit connect', { skip }, () => {
  let sshd: TestSshd;
  let node: { server: Server; port: number };
  let cache: string;
  let env: NodeJS.ProcessEnv;
  const opened: ChildProcess[] = [];

  before(async () => {
    sshd = await startSshd();
    node = await nodeServer('hello from the remote node');
    cache = mkdtempSync(join(tmpdir(), 'kit-connect-cache-'));
    env = { KIT_CACHE: cache, KIT_SSH_COMMAND: sshd.sshCommand };
  });

  after(async () => {
    // Anything a failed test left: kit's recorded tunnels, then the test's own.
    for (const child of opened) child.kill('SIGTERM');
    const dir = join(cache, 'connect');
    if (existsSync(dir)) {
      for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
        const pid = JSON.parse(readFileSync(join(dir, f), 'utf8')).pid as number;
        if (isAlive(pid)) process.kill(pid, 'SIGTERM');
      }
    }
    node.server.close();
    await sshd.stop();
    rmSync(cache, { recursive: true, force: true });
  });

  test('opens a tunnel to --port and --disconnect stops only that ssh', async () => {
    const local = await freePort();
    const r = await runKit(['connect', String(local), '--host', HOST_ALIAS, '--port', String(node.port)], { env });
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, new RegExp(`localhost:${local} -> ${HOST_ALIAS} localhost:${node.port}`));
    assert.equal(await get(local), 'hello from the remote node');

    const record = JSON.parse(readFileSync(join(cache, 'connect', `${local}.json`), 'utf8'));
    assert.equal(record.localPort, local);
    assert.equal(record.hostPort, node.port);
    assert.ok(isAlive(record.pid), 'the recorded ssh runs');
    assert.match(readFileSync(`/proc/${record.pid}/cmdline`, 'utf8'), /^ssh\0/);

    // A tunnel kit did not start, to the same host and port: it must survive the disconnect.
    const decoyPort = await freePort();
    const decoy = spawn('ssh', ['-F', sshd.sshConfig, '-N', '-L', `${decoyPort}:localhost:${node.port}`, HOST_ALIAS], { stdio: 'ignore' });
    opened.push(decoy);
    assert.ok(await waitForPort(decoyPort, 10_000), 'the test’s own tunnel is up');

    const d = await runKit(['connect', String(local), '--disconnect'], { env });
    assert.equal(d.code, 0, d.output);
    assert.match(d.stdout, /Disconnected the tunnel on port/);
    assert.ok(!isAlive(record.pid), 'kit’s ssh is gone');
    assert.equal(await canConnect(local), false, 'nothing listens on the local port any more');
    assert.ok(!existsSync(join(cache, 'connect', `${local}.json`)), 'the record is removed');
    assert.equal(decoy.exitCode, null, 'the other ssh still runs');
    assert.equal(await get(decoyPort), 'hello from the remote node');

    const again = await runKit(['connect', String(local), '-d'], { env });
    assert.equal(again.code, 1);
    assert.match(again.stderr, new RegExp(`no tunnel that kit started is recorded for port ${local}`));
  });

  test('without --port asks the host which port its node listens on', async () => {
    sshd.setListing(
      [
        'COMMAND     PID USER   FD   TYPE DEVICE SIZE/OFF NODE NAME',
        'sshd        811 root    3u  IPv4  17001      0t0  TCP *:22 (LISTEN)',
        `hyperdriv  4242 root   12u  IPv4  31337      0t0  TCP *:${node.port} (LISTEN)`,
        `hyperdriv  4242 root   13u  IPv4  31338      0t0  TCP 127.0.0.1:${node.port}->127.0.0.1:51000 (ESTABLISHED)`,
        'hyperdriv  4242 root   14u  IPv4  31339      0t0  TCP *:9000 (LISTEN)',
        '',
      ].join('\n'),
    );
    const local = await freePort();
    const r = await runKit(['connect', String(local), '-o', HOST_ALIAS], { env });
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, new RegExp(`localhost:${node.port} \\(ssh pid`));
    assert.equal(await get(local), 'hello from the remote node');
    const d = await runKit(['connect', String(local), '-d'], { env });
    assert.equal(d.code, 0, d.output);
    assert.equal(await canConnect(local), false);
  });

  test('a host with no node port says to pass --port', async () => {
    sshd.setListing('sshd 811 root 3u IPv4 17001 0t0 TCP *:22 (LISTEN)\n');
    const r = await runKit(['connect', String(await freePort()), '-o', HOST_ALIAS], { env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /found no node listening on kit-test-host/);
    assert.match(r.stderr, /--port/);
  });

  test('clear errors: no --host, a busy local port, an unreachable host', async () => {
    const noHost = await runKit(['connect', String(await freePort())], { env });
    assert.equal(noHost.code, 1);
    assert.match(noHost.stderr, /--host is required/);

    const busy = await runKit(['connect', String(sshd.port), '-o', HOST_ALIAS, '-p', String(node.port)], { env });
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, new RegExp(`local port ${sshd.port} is already in use`));

    const bad = await runKit(['connect', String(await freePort()), '-o', 'no-such-host.invalid', '-p', '8080'], { env });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /ssh could not open the tunnel/);
    assert.match(bad.stderr, /no-such-host\.invalid/);
  });
});

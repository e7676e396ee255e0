// A real OpenSSH server on loopback for the `kit connect` tests: its own host key, config and
// authorized_keys in a temp folder, a throwaway client key, and an ssh_config naming it
// `kit-test-host`. The client key runs a forced command: asked for the port listing, it prints
// the text the test wrote (this machine's real listeners are shared with other test runs), and
// runs any other command as asked. Tunnels (-N) open no session and forward for real.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from './helpers.js';

export const SSHD_BIN = '/usr/sbin/sshd';
export const HOST_ALIAS = 'kit-test-host';

export interface TestSshd {
  dir: string;
  port: number;
  /** For KIT_SSH_COMMAND: `ssh -F <dir>/ssh_config`. */
  sshCommand: string;
  sshConfig: string;
  /** What the remote prints for the port probe (lsof-style text). */
  setListing(text: string): void;
  stop(): Promise<void>;
}

export async function startSshd(): Promise<TestSshd> {
  const dir = mkdtempSync(join(tmpdir(), 'kit-sshd-'));
  chmodSync(dir, 0o700);
  const keygen = (name: string) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', join(dir, name)]);
  keygen('host_key');
  keygen('client_key');
  const listing = join(dir, 'listing.txt');
  writeFileSync(listing, '');
  const remote = join(dir, 'remote.sh');
  writeFileSync(
    remote,
    `#!/bin/sh\ncase "$SSH_ORIGINAL_COMMAND" in\n  *lsof*) cat '${listing}' ;;\n  *) exec /bin/sh -c "$SSH_ORIGINAL_COMMAND" ;;\nesac\n`,
  );
  chmodSync(remote, 0o755);
  const clientPub = readFileSync(join(dir, 'client_key.pub'), 'utf8').trim();
  writeFileSync(join(dir, 'authorized_keys'), `command="${remote}" ${clientPub}\n`);
  const port = await freePort();
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_key')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin prohibit-password',
      'AllowTcpForwarding yes',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  const hostPub = readFileSync(join(dir, 'host_key.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
  writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${hostPub}\n`);
  const sshConfig = join(dir, 'ssh_config');
  writeFileSync(
    sshConfig,
    [
      `Host ${HOST_ALIAS}`,
      '  HostName 127.0.0.1',
      `  Port ${port}`,
      `  User ${userInfo().username}`,
      `  IdentityFile ${join(dir, 'client_key')}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${join(dir, 'known_hosts')}`,
      '  GlobalKnownHostsFile /dev/null',
      '  StrictHostKeyChecking yes',
      '  BatchMode yes',
      '  LogLevel ERROR',
      '',
    ].join('\n'),
  );
  // sshd running as root wants its privilege-separation folder.
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  let err = '';
  const child: ChildProcess = spawn(SSHD_BIN, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (d) => {
    err += d;
  });
  const up = await waitForPort(port, 10_000, () => child.exitCode !== null);
  if (!up) {
    child.kill('SIGKILL');
    throw new Error(`sshd did not start on port ${port}: ${err}`);
  }
  return {
    dir,
    port,
    sshConfig,
    sshCommand: `ssh -F ${sshConfig}`,
    setListing: (text) => writeFileSync(listing, text),
    async stop() {
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function waitForPort(port: number, ms: number, giveUp: () => boolean = () => false): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && !giveUp()) {
    if (await canConnect(port)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

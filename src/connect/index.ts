// `kit connect`: an SSH tunnel from a local port to a hosted node's HTTP port, so every other kit
// command can talk to that node with `-p LOCAL_PORT`. The ssh process kit starts is recorded under
// KIT_CACHE/connect/<LOCAL_PORT>.json (pid, ports, host, start time); `--disconnect` stops exactly
// that process after checking it is still the one recorded, never anything found by name.

import { mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { execa, parseCommandString } from 'execa';
import { KitError } from '../cli/errors.js';
import { KIT_CACHE } from '../core/cache.js';
import { isPidAlive } from '../pid.js';

/** Hyperdrive serves HTTP on the first free port in this range unless told otherwise. */
export const NODE_PORT_RANGE = { min: 8080, max: 8999 } as const;

/** Asked on the remote to find the node's port: lsof as the book's kit does, ss/netstat where lsof is missing. */
export const REMOTE_PORT_PROBE = 'lsof -i -P -n 2>/dev/null || ss -ltn 2>/dev/null || netstat -ltn 2>/dev/null';

export interface TunnelRecord {
  pid: number;
  localPort: number;
  host: string;
  hostPort: number;
  /** When kit started the tunnel (ISO 8601). */
  startedAt: string;
  /** The process start time as `ps -o lstart=` prints it: tells a reused pid from ours. */
  processStart: string;
  /** The ssh argv kit ran. */
  command: string[];
}

export interface ConnectOptions {
  localPort: number;
  host: string;
  /** The node's port on the host; asked from the host when absent. */
  hostPort?: number;
  /** Where ssh's own messages go; default: the cache folder. */
  cacheDir?: string;
}

export function connectDir(cacheDir = KIT_CACHE): string {
  return join(cacheDir, 'connect');
}

function recordPath(localPort: number, cacheDir?: string): string {
  return join(connectDir(cacheDir), `${localPort}.json`);
}

/** The ssh program and leading options: KIT_SSH_COMMAND (like GIT_SSH_COMMAND, e.g. "ssh -F ./config") or `ssh`. */
export function sshCommand(env: NodeJS.ProcessEnv = process.env): [string, string[]] {
  const raw = env.KIT_SSH_COMMAND?.trim();
  const parts = raw ? parseCommandString(raw) : ['ssh'];
  return [parts[0] as string, parts.slice(1)];
}

/**
 * The node's HTTP port from what the remote printed (lsof, ss or netstat): the one listening port
 * in 8080..8999. None or several is an error that asks for --port.
 */
export function parseNodePort(listing: string, host: string): number {
  const ports = new Set<number>();
  for (const line of listing.split('\n')) {
    if (!/\bLISTEN\b/.test(line)) continue;
    for (const word of line.trim().split(/\s+/)) {
      const m = /^(?:\*:|.*:)?(\d{1,5})$/.exec(word);
      if (!m) continue;
      const port = Number(m[1]);
      if (port >= NODE_PORT_RANGE.min && port <= NODE_PORT_RANGE.max) ports.add(port);
    }
  }
  if (ports.size === 1) return [...ports][0] as number;
  if (ports.size === 0) {
    throw new KitError(`found no node listening on ${host} (no port in ${NODE_PORT_RANGE.min}-${NODE_PORT_RANGE.max} is listening)`, {
      hint: 'is the node running there? give its HTTP port with --port (Valet shows it as "Local HTTP Port")',
    });
  }
  throw new KitError(`several ports in ${NODE_PORT_RANGE.min}-${NODE_PORT_RANGE.max} listen on ${host}: ${[...ports].sort().join(', ')}`, {
    hint: 'say which one is the node with --port',
  });
}

/** Ask the host which port its node serves on (one short ssh session; may prompt for a password). */
export async function discoverHostPort(host: string): Promise<number> {
  const [ssh, pre] = sshCommand();
  const r = await execa(ssh, [...pre, host, REMOTE_PORT_PROBE], { stdin: 'inherit', reject: false });
  if ((r as { code?: string }).code === 'ENOENT') throw sshMissing(ssh);
  if (r.exitCode === 255) {
    throw new KitError(`ssh to ${host} failed`, { details: String(r.stderr).trim(), hint: sshHint(host) });
  }
  return parseNodePort(String(r.stdout), host);
}

function sshMissing(ssh: string): KitError {
  return new KitError(`${ssh} not found`, { hint: 'install an OpenSSH client (e.g. `apt-get install openssh-client`)' });
}

function sshHint(host: string): string {
  return `check that \`ssh ${host}\` works on its own (host name, user, key or password); see https://book.hyperware.ai/hosted-nodes.html#using-ssh-keys`;
}

/** Open the tunnel; resolves once 127.0.0.1:localPort is forwarded, with what was recorded. */
export async function connect(opts: ConnectOptions): Promise<TunnelRecord> {
  const { localPort, host } = opts;
  const dir = connectDir(opts.cacheDir);
  const existing = readRecord(localPort, opts.cacheDir);
  if (existing && (await isSameProcess(existing))) {
    throw new KitError(`a tunnel kit started already binds port ${localPort} (to ${existing.host}:${existing.hostPort}, ssh pid ${existing.pid})`, {
      hint: `disconnect it first with \`kit connect ${localPort} --disconnect\`, or pick another LOCAL_PORT`,
    });
  }
  if (!(await portIsFree(localPort))) {
    throw new KitError(`local port ${localPort} is already in use`, { hint: 'pick another LOCAL_PORT, e.g. `kit connect 9091 --host ...`' });
  }
  const hostPort = opts.hostPort ?? (await discoverHostPort(host));

  const [ssh, pre] = sshCommand();
  // -f: ssh asks for a password in the terminal if it must, then goes to the background once the
  // forward is bound (ExitOnForwardFailure makes a failed bind an error instead of a silent tunnel).
  const args = [...pre, '-f', '-N', '-o', 'ExitOnForwardFailure=yes', '-L', `${localPort}:localhost:${hostPort}`, host];
  mkdirSync(dir, { recursive: true });
  const logFile = join(dir, `${localPort}.log`);
  // The backgrounded ssh keeps its stderr open: a file, not a pipe, so kit does not wait on it.
  const r = await execa(ssh, [...args], { stdin: 'inherit', stdout: 'ignore', stderr: { file: logFile }, reject: false });
  if ((r as { code?: string }).code === 'ENOENT') throw sshMissing(ssh);
  const exitCode = r.exitCode;
  if (exitCode !== 0) {
    throw new KitError(`ssh could not open the tunnel ${localPort} -> ${host}:${hostPort} (exit ${exitCode})`, {
      details: readFileSync(logFile, 'utf8').trim(),
      hint: sshHint(host),
    });
  }
  const pid = await waitForListener(localPort, 5000);
  if (pid === undefined) {
    throw new KitError(`ssh went to the background but nothing listens on port ${localPort}`, { details: readFileSync(logFile, 'utf8').trim() });
  }
  const record: TunnelRecord = {
    pid,
    localPort,
    host,
    hostPort,
    startedAt: new Date().toISOString(),
    processStart: await processStart(pid),
    command: [ssh, ...args],
  };
  writeFileSync(recordPath(localPort, opts.cacheDir), `${JSON.stringify(record, null, 2)}\n`);
  return record;
}

export interface DisconnectResult {
  record: TunnelRecord;
  /** False when the recorded ssh had already exited (the record is removed either way). */
  wasRunning: boolean;
}

/** Stop the ssh process kit recorded for localPort, and only that one. */
export async function disconnect(localPort: number, cacheDir?: string): Promise<DisconnectResult> {
  const record = readRecord(localPort, cacheDir);
  if (!record) {
    throw new KitError(`no tunnel that kit started is recorded for port ${localPort}`, {
      hint: `kit only stops tunnels it opened itself (records in ${connectDir(cacheDir)}); list yours with \`ls ${connectDir(cacheDir)}\``,
    });
  }
  const running = await isSameProcess(record);
  if (running) {
    process.kill(record.pid, 'SIGTERM');
    if (!(await waitForExit(record.pid, 5000))) process.kill(record.pid, 'SIGKILL');
  }
  rmSync(recordPath(localPort, cacheDir), { force: true });
  rmSync(join(connectDir(cacheDir), `${localPort}.log`), { force: true });
  return { record, wasRunning: running };
}

export function readRecord(localPort: number, cacheDir?: string): TunnelRecord | undefined {
  try {
    return JSON.parse(readFileSync(recordPath(localPort, cacheDir), 'utf8')) as TunnelRecord;
  } catch {
    return undefined;
  }
}

/** The recorded pid is alive and is still the process kit started (same start time, an ssh forwarding that port). */
async function isSameProcess(record: TunnelRecord): Promise<boolean> {
  if (!isPidAlive(record.pid)) return false;
  if ((await processStart(record.pid)) !== record.processStart) return false;
  const r = await execa('ps', ['-ww', '-o', 'args=', '-p', String(record.pid)], { reject: false });
  return String(r.stdout).includes(`${record.localPort}:localhost:${record.hostPort}`);
}

async function processStart(pid: number): Promise<string> {
  const r = await execa('ps', ['-o', 'lstart=', '-p', String(pid)], { reject: false, env: { LC_ALL: 'C' } });
  return String(r.stdout).trim();
}

async function waitForExit(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isPidAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !isPidAlive(pid);
}

export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

async function waitForListener(port: number, ms: number): Promise<number | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const pid = await listenerPid(port);
    if (pid !== undefined || Date.now() > deadline) return pid;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The pid of the process listening on TCP `port` (Linux: /proc; elsewhere: lsof). */
export async function listenerPid(port: number): Promise<number | undefined> {
  if (process.platform !== 'linux') {
    const r = await execa('lsof', ['-nP', '-t', `-iTCP:${port}`, '-sTCP:LISTEN'], { reject: false });
    const pid = Number.parseInt(String(r.stdout).split('\n')[0] ?? '', 10);
    return Number.isNaN(pid) ? undefined : pid;
  }
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local_address is HEXIP:HEXPORT; state 0A is LISTEN; inode is column 10.
      if (cols.length < 10 || cols[3] !== '0A') continue;
      if (Number.parseInt(cols[1]?.split(':')[1] ?? '', 16) === port) inodes.add(cols[9] as string);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${entry}/fd/${fd}`));
        if (m && inodes.has(m[1] as string)) return Number(entry);
      } catch {
        // the process or fd went away meanwhile
      }
    }
  }
  return undefined;
}

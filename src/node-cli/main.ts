// `kit-hyperdrive`: boot kit's embedded fake node from Hyperdrive's command line (argv.ts) and run
// it until SIGINT/SIGTERM/SIGHUP or a Ctrl-C byte on stdin, as a simulation-mode Hyperdrive does.
// The home is kept on exit (Hyperdrive never deletes it; the real kit does, unless --persist),
// and the processes of an earlier run in it come back.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { shutdownTrigger } from '../cli/lifecycle.js';
import { createLogger } from '../core/log.js';
import { isSafeName, safeNameRule } from '../core/types.js';
import { ArgvError, type NodeArgs, parseNodeArgv, USAGE } from './argv.js';

export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** Runs the node; resolves with the exit status (2 for a bad command line, as clap). */
export async function main(argv: string[], io: Io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let args: NodeArgs;
  try {
    const parsed = parseNodeArgv(argv);
    if (parsed.kind === 'help') {
      io.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (parsed.kind === 'version') {
      io.stdout.write(`kit-hyperdrive ${kitVersion()} (kit's embedded TypeScript node)\n`);
      return 0;
    }
    args = parsed.args;
  } catch (e) {
    if (!(e instanceof ArgvError)) throw e;
    io.stderr.write(`error: ${e.message}\n\nUsage: kit-hyperdrive <HOME> [OPTIONS]\n\nFor more information, try '--help'.\n`);
    return 2;
  }
  if (args.fakeNodeName === undefined) {
    io.stderr.write(
      "error: kit's node is a fake node only: pass --fake-node-name <NAME> (booting a home's keyfile with --password alone, or a live node, needs a real Hyperdrive)\n",
    );
    return 2;
  }
  // Hyperdrive registers every fake node under `os`; a dotless name is what it registers.
  const name = args.fakeNodeName.includes('.') ? args.fakeNodeName : `${args.fakeNodeName}.os`;
  if (!isSafeName(name, true)) {
    io.stderr.write(`error: --fake-node-name ${name} is not Hypermap-safe: use only ${safeNameRule(true)}\n`);
    return 2;
  }
  for (const note of args.notes) io.stderr.write(`note: ${note}\n`);

  const { bootNode } = await import('../runtime/node.js');
  const shutdown = shutdownTrigger({ signals: ['SIGINT', 'SIGTERM', 'SIGHUP'] });
  const input = args.detached ? null : process.stdin;
  // The real kit's run-tests gives the node a pty it is not attached to and writes a Ctrl-C byte
  // into it: only a raw-mode reader sees that byte (the line discipline would swallow it).
  const stdin = process.stdin as NodeJS.ReadStream;
  if (input && stdin.isTTY && !(io.stdout as NodeJS.WriteStream).isTTY) stdin.setRawMode(true);
  let node: Awaited<ReturnType<typeof bootNode>>;
  try {
    node = await bootNode({
      home: args.home,
      port: args.port ?? (await firstFreePort(8080)),
      name,
      password: args.password ?? 'secret',
      persist: true,
      fakechainPort: args.fakechainPort ?? 8545,
      rpc: args.rpc,
      netPort: args.wsPort,
      quotas: { maxPassthroughs: args.maxPassthroughs },
      verbosity: Math.min(args.verbosity, 3),
      softUlimit: args.softUlimit,
      terminal: input ? { input, output: io.stdout } : null,
      log: createLogger({ target: name }),
      onExitRequested: () => shutdown.request(),
    });
  } catch (e) {
    shutdown.dispose();
    io.stderr.write(`error: ${(e as Error).message}\n`);
    return 1;
  }
  io.stdout.write(`kit-hyperdrive: ${node.name} is running (kit's embedded node): ${node.url}, home ${node.home}\n`);
  const reason = await shutdown.reason;
  io.stdout.write(`kit-hyperdrive: stopping ${node.name} (${reason})...\n`);
  await node.stop();
  shutdown.dispose();
  if (stdin.isTTY && stdin.isRaw) stdin.setRawMode(false);
  return 0;
}

/** Hyperdrive's default HTTP port: the first free one at or above `from`. */
async function firstFreePort(from: number): Promise<number> {
  for (let port = from; port < 65536; port++) if (await isFree(port)) return port;
  return 0;
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ port }, () => s.close(() => resolve(true)));
  });
}

function kitVersion(): string {
  const pkg = join(dirname(fileURLToPath(import.meta.url)), '../../../package.json');
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
}

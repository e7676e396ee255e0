import { rmSync } from 'node:fs';
import { Flags } from '@oclif/core';
import { KitCommand } from '../cli/base.js';
import { KitError } from '../cli/errors.js';
import { releaseFlag, rpcFlag, runtimePathFlag, runtimeVersionFlag, verbosityFlag } from '../cli/flags.js';
import { shutdownTrigger } from '../cli/lifecycle.js';
import { EMBEDDED_RUNTIME_NOTE, SUMMARY } from '../cli/messages.js';
import { createLogger } from '../core/log.js';
import { DEFAULT_ZIP_LIMITS, ZIP_RATIO_FLOOR_BYTES } from '../core/zip.js';
import { isSafeName, safeNameRule } from '../core/types.js';
import { defaultQuotas, type NodeQuotas, QUOTA_SETTINGS, quotaFromFlag } from '../runtime/quotas.js';

/** The node's quotas that are kit's own (Hyperdrive's --max-passthroughs goes after `--`). */
const KIT_QUOTAS = (Object.keys(QUOTA_SETTINGS) as Array<keyof NodeQuotas>).filter((k) => !QUOTA_SETTINGS[k].hyperdrive);

/** The quotas the flags set, in the quotas' units. */
function quotaValues(flags: object): Partial<NodeQuotas> {
  return Object.fromEntries(KIT_QUOTAS.map((key) => [key, quotaFromFlag(key, (flags as Record<string, number | undefined>)[QUOTA_SETTINGS[key].flag])]));
}

/** One flag per quota; no oclif default, so that its environment variable applies when it is not given. */
function quotaFlags() {
  const defaults = defaultQuotas();
  return Object.fromEntries(
    KIT_QUOTAS.map((key) => {
      const s = QUOTA_SETTINGS[key];
      const shown = key === 'processMemoryBytes' ? "a quarter of the machine's memory" : String(s.mib ? defaults[key] / 1048576 : defaults[key]);
      return [s.flag, Flags.integer({ description: `${s.description} [default: ${shown}, or ${s.env}]`, min: s.min, helpValue: s.mib ? '<MIB>' : '<N>' })];
    }),
  );
}

export default class BootFakeNode extends KitCommand {
  static override summary = SUMMARY['boot-fake-node'];
  static override description =
    'Boots a fake node in this process with the embedded TypeScript runtime, serves its HTTP (and the kit RPC) on --port, registers its name on the fake chain at --fakechain-port (starting a chain there if none answers; kit chain starts one yourself), and runs until Ctrl-C (SIGINT) or SIGTERM. Its home is deleted on exit unless --persist; an earlier node’s home is used as it is (its processes come back if it ran with --persist), and a folder that holds anything else is refused. Use --detached when stdin is not yours (background jobs, CI). With --runtime-path (a Hyperdrive repo, built with cargo in simulation mode, or a simulation-mode binary) kit runs that real runtime instead, on the same fake chain, passing it the flags the real kit passes. Arguments after `--` go to the node: Hyperdrive’s flags (e.g. `-- --ws-port 9001`); kit’s node takes those that make sense for it and refuses the others (`kit-hyperdrive --help` lists them).';
  static override aliases = ['f'];
  // Arguments after `--` go to a real Hyperdrive (--runtime-path).
  static override strict = false;
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> -f fake2.dev -p 8081 -o /tmp/hyperware-fake-node-2',
    '<%= config.bin %> <%= command.id %> --persist --home ./my-fake-node',
  ];
  static override flags = {
    'runtime-path': runtimePathFlag,
    version: runtimeVersionFlag,
    port: Flags.integer({
      char: 'p',
      description: 'The port to run the fake node on (0 picks a free one)',
      default: 8080,
      min: 0,
      max: 65535,
      helpValue: '<NODE_PORT>',
    }),
    home: Flags.string({
      char: 'o',
      description: 'Path to home directory for fake node',
      default: '/tmp/hyperware-fake-node',
      helpValue: '<HOME>',
    }),
    'fake-node-name': Flags.string({
      char: 'f',
      description: 'Name for fake node; a name without a dot gets ".dev" appended (fake2 is fake2.dev, as in the Quick Start)',
      default: 'fake.dev',
      helpValue: '<NODE_NAME>',
    }),
    'fakechain-port': Flags.integer({
      char: 'c',
      description: 'The port to run the fakechain on (or to connect to)',
      default: 8545,
      min: 1,
      max: 65535,
      helpValue: '<FAKECHAIN_PORT>',
    }),
    rpc: rpcFlag,
    persist: Flags.boolean({ description: 'If set, do not delete node home after exit' }),
    password: Flags.string({ description: 'Password to login', default: 'secret', helpValue: '<PASSWORD>' }),
    release: releaseFlag,
    verbosity: verbosityFlag,
    detached: Flags.boolean({ description: 'Do not read commands from stdin (run in the background)' }),
    expose: Flags.boolean({
      description:
        'Listen on every network interface (0.0.0.0), as Hyperdrive does, so other machines can reach this node (HTTP, the kit RPC and the port for other nodes). Default: this machine only (127.0.0.1)',
    }),
    'max-zip-bytes': Flags.integer({
      description: 'Most bytes a package zip (or a process\'s VFS AddZip) may unpack to; bigger ones are refused with the reason',
      default: DEFAULT_ZIP_LIMITS.maxBytes,
      min: 1,
      helpValue: '<BYTES>',
    }),
    'max-zip-ratio': Flags.integer({
      description: `Most times its own size a zip may unpack to, once it unpacks past ${ZIP_RATIO_FLOOR_BYTES / 1024 / 1024} MiB (zip bombs)`,
      default: DEFAULT_ZIP_LIMITS.maxRatio,
      min: 1,
      helpValue: '<RATIO>',
    }),
    ...quotaFlags(),
    routers: Flags.string({
      description:
        'Boot as an indirect node: register these routers (comma-separated node names, themselves direct nodes) in ~routers instead of ~ip and ~ws-port',
      helpValue: '<NODE,...>',
    }),
  };

  async run(): Promise<void> {
    const { flags, argv } = await this.parse(BootFakeNode);
    const name = flags['fake-node-name'].includes('.') ? flags['fake-node-name'] : `${flags['fake-node-name']}.dev`;
    if (!isSafeName(name, true)) {
      throw new KitError(`fake node name "${name}" is not Hypermap-safe: use only ${safeNameRule(true)}`);
    }
    if (flags['runtime-path'] !== undefined) {
      // A real Hyperdrive (simulation mode) instead of the embedded runtime.
      const { bootRealFakeNode } = await import('../real-runtime/fake.js');
      const { splitExtraArgs } = await import('../real-runtime/index.js');
      const code = await bootRealFakeNode({
        runtimePath: flags['runtime-path'],
        release: flags.release,
        home: flags.home,
        port: flags.port,
        name,
        password: flags.password,
        fakechainPort: flags['fakechain-port'],
        verbosity: flags.verbosity,
        rpc: flags.rpc,
        persist: flags.persist,
        extra: splitExtraArgs(this.argv, argv as string[]),
        log: (line) => this.log(line),
      });
      this.exit(code);
    }
    if (flags.release || flags.version !== 'latest') this.warn(EMBEDDED_RUNTIME_NOTE);
    // `-- ARGS`: the Hyperdrive flags that make sense for kit's node (kit-hyperdrive takes the same).
    const { parseExtraArgs, ArgvError } = await import('../node-cli/argv.js');
    const { splitExtraArgs } = await import('../real-runtime/index.js');
    let extra: ReturnType<typeof parseExtraArgs>;
    try {
      extra = parseExtraArgs(splitExtraArgs(this.argv, argv as string[]));
    } catch (e) {
      if (e instanceof ArgvError) throw new KitError(`arguments after --: ${e.message}`, { hint: 'run `kit-hyperdrive --help` for the Hyperdrive flags kit\'s node takes' });
      throw e;
    }
    for (const note of extra.notes) this.log(`note: ${note}`);

    // Loaded here, not at the top: every other command (and `kit --help`) starts without the runtime.
    const { bootNode, PortInUseError } = await import('../runtime/node.js');
    let node: Awaited<ReturnType<typeof bootNode>> | undefined;
    // A second signal while stopping exits at once, but still removes a home that is not kept.
    const shutdown = shutdownTrigger({
      onForce: (signal) => {
        process.stderr.write(`\ngot ${signal} again while stopping: exiting now, without finishing the clean-up\n`);
        if (node && !flags.persist) rmSync(node.home, { recursive: true, force: true });
        process.exit(130);
      },
    });
    try {
      node = await bootNode({
        home: flags.home,
        port: flags.port,
        name,
        password: flags.password,
        persist: flags.persist,
        host: flags.expose ? '0.0.0.0' : '127.0.0.1',
        zipLimits: { maxBytes: flags['max-zip-bytes'], maxRatio: flags['max-zip-ratio'] },
        fakechainPort: flags['fakechain-port'],
        rpc: flags.rpc,
        netPort: extra.wsPort,
        quotas: { ...quotaValues(flags), maxPassthroughs: extra.maxPassthroughs },
        softUlimit: extra.softUlimit,
        routers: flags.routers
          ?.split(',')
          .map((r) => r.trim())
          .filter((r) => r !== ''),
        verbosity: flags.verbosity,
        terminal: flags.detached || extra.detached ? null : { input: process.stdin, output: process.stdout },
        log: createLogger({ target: name }),
        onExitRequested: () => shutdown.request(),
      });
    } catch (e) {
      shutdown.dispose();
      if (e instanceof PortInUseError || (e as Error)?.name === 'PortInUseError') {
        throw new KitError((e as Error).message || `port ${flags.port} is already in use`, {
          hint: `stop what listens on port ${flags.port}, or pick another with --port (0 picks a free one)`,
        });
      }
      // Chain problems (no chain and none can start, name held by another key, wrong password).
      if ((e as Error)?.name === 'HomeError' || (e as Error)?.name === 'QuotaConfigError') throw new KitError((e as Error).message);
      const chainErrors = ['FakeChainUnavailableError', 'NameTakenError', 'NetKeyError', 'RegistrationError'];
      if (chainErrors.includes((e as Error)?.name)) {
        throw new KitError((e as Error).message, {
          hint: (e as Error).name !== 'FakeChainUnavailableError'
            ? undefined
            : /in use/.test((e as Error).message)
              ? 'pass --fakechain-port with the port of your chain (`kit chain -p <PORT>`), or a free port for kit to start one on'
              : `run \`kit chain -p ${flags['fakechain-port']}\` in another terminal`,
        });
      }
      throw e;
    }

    this.log(`fake node ${node.name} is running`);
    this.log(`  url:  ${node.url} (its homepage; log in with the node's password)`);
    this.log(`  home: ${node.home}${flags.persist ? '' : ' (deleted on exit; keep it with --persist)'}`);
    this.log('Ctrl-C to stop');
    const reason = await shutdown.reason;
    this.log(`stopping ${node.name} (${reason})...`);
    await node.stop();
    shutdown.dispose();
    this.log('stopped');
    // stdin (the node's terminal) would keep the process alive; the node is down, so leave now.
    this.exit(0);
  }
}

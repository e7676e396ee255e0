// User-facing text kept apart from code: command summaries (as in the book's `kit --help`),
// shared flag descriptions, and the messages several commands print.

export const SUMMARY = {
  'boot-fake-node': 'Boot a fake node for development',
  'boot-real-node': 'Boot a real node',
  build: 'Build a Hyperware package',
  'build-start-package': 'Build and start a Hyperware package',
  chain: 'Start a local chain for development',
  connect: 'Connect (or disconnect) a ssh tunnel to a remote server',
  'dev-ui': 'Start the web UI development server with hot reloading (same as `cd ui && npm i && npm run dev`)',
  'inject-message': 'Inject a message to a running node',
  new: 'Create a Hyperware template package',
  publish: 'Publish or update a package',
  'remove-package': 'Remove a running package from a node',
  'reset-cache': 'Reset kit cache (Hyperdrive binaries, logs, etc.)',
  'run-tests': 'Run Hyperware tests',
  setup: 'Fetch & setup kit dependencies',
  'start-package': 'Start a built Hyperware package',
  update: 'Fetch the most recent version of kit',
  'view-api': 'Fetch the list of APIs or a specific API',
  watch: 'Build, install and reload a package on every save',
} as const;

export type CommandName = keyof typeof SUMMARY;

export const NODE_PORT_DESCRIPTION =
  'localhost node port; for remote see https://book.hyperware.ai/hosted-nodes.html#using-kit-with-your-hosted-node';

export const DEFAULT_NODE_PORT = 8080;

export function notYetAvailableMessage(command: string): string {
  return `\`kit ${command}\` is not yet available in this build`;
}

export const NOT_YET_AVAILABLE_HINT =
  'this command is still being written; see README.md for the commands that work today';

export function noNodeMessage(url: string): string {
  return `no node answers at ${url}: is it running? start one with \`kit boot-fake-node\``;
}

export const EMBEDDED_RUNTIME_NOTE =
  'kit runs its embedded TypeScript runtime; --version and --release apply only to a real Hyperdrive (--runtime-path) and are ignored here';

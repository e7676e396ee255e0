// The error every kit library throws when the user can fix the cause: a short message that says
// what was wrong, optional details, and a hint that says what to do next. Commands print these
// without a stack trace; anything else is a bug and oclif prints it in full.

export interface KitErrorOptions {
  /** What to do about it, printed on its own line after the message. */
  hint?: string;
  /** Extra lines (e.g. the node's answer) printed between message and hint. */
  details?: string;
  /** Process exit status; default 1. */
  exitCode?: number;
  cause?: unknown;
}

export class KitError extends Error {
  override name = 'KitError';
  readonly hint?: string;
  readonly details?: string;
  readonly exitCode: number;

  constructor(message: string, opts: KitErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.hint = opts.hint;
    this.details = opts.details;
    this.exitCode = opts.exitCode ?? 1;
  }
}

/**
 * Whether to colour what goes to `stream`: a terminal, unless NO_COLOR is set (https://no-color.org)
 * or CI is; FORCE_COLOR (not 0) colours even into a pipe.
 */
export function colorEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0') return true;
  if (env.CI !== undefined && env.CI !== '' && env.CI !== '0' && env.CI !== 'false') return false;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

const RED_BOLD = ['\x1b[1;31m', '\x1b[0m'];
const YELLOW_BOLD = ['\x1b[1;33m', '\x1b[0m'];
const CYAN = ['\x1b[36m', '\x1b[0m'];

function paint(text: string, [on, off]: string[], color: boolean): string {
  return color ? `${on}${text}${off}` : text;
}

/**
 * kit's one shape for a problem, from its own errors and oclif's alike: `Error: <message>`, the
 * details, `hint: <what to do>`; `warning:` for a warning. Coloured when `color`.
 */
export function formatProblem(p: { message: string; details?: string; hint?: string; warning?: boolean }, color = false): string {
  const label = p.warning ? paint('warning:', YELLOW_BOLD, color) : paint('Error:', RED_BOLD, color);
  const lines = [`${label} ${p.message}`];
  if (p.details) lines.push(p.details);
  if (p.hint) lines.push(`${paint('hint:', CYAN, color)} ${p.hint}`);
  return lines.join('\n');
}

/** The text a command prints for a KitError: `Error: <message>`, details, `hint: <hint>`. */
export function formatKitError(err: KitError, color = false): string {
  return formatProblem({ message: err.message, details: err.details, hint: err.hint }, color);
}

/** Node's fs error codes as a short phrase for messages ("no such file", ...). */
export function describeFsError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOTDIR':
      return 'not a directory';
    default:
      return e instanceof Error ? e.message : String(e);
  }
}

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

/** The text a command prints for a KitError: `Error: <message>`, details, `hint: <hint>`. */
export function formatKitError(err: KitError): string {
  const lines = [`Error: ${err.message}`];
  if (err.details) lines.push(err.details);
  if (err.hint) lines.push(`hint: ${err.hint}`);
  return lines.join('\n');
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

// File-system errors as a Rust process reads them from Hyperdrive's modules: std::io::Error's
// Display, "<strerror text> (os error <n>)" for an OS error (glibc's texts, Linux's numbers), which
// vfs, kv, sqlite and state put in their IOError variants.

import { constants as os } from 'node:os';

const STRERROR: Record<string, string> = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  EIO: 'Input/output error',
  EBADF: 'Bad file descriptor',
  EAGAIN: 'Resource temporarily unavailable',
  ENOMEM: 'Cannot allocate memory',
  EACCES: 'Permission denied',
  EBUSY: 'Device or resource busy',
  EEXIST: 'File exists',
  EXDEV: 'Invalid cross-device link',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EINVAL: 'Invalid argument',
  ENFILE: 'Too many open files in system',
  EMFILE: 'Too many open files',
  ETXTBSY: 'Text file busy',
  EFBIG: 'File too large',
  ENOSPC: 'No space left on device',
  EROFS: 'Read-only file system',
  EMLINK: 'Too many links',
  ENAMETOOLONG: 'File name too long',
  ENOTEMPTY: 'Directory not empty',
  ELOOP: 'Too many levels of symbolic links',
  EDQUOT: 'Disk quota exceeded',
};

const ERRNO_CODE = /^E[A-Z0-9]+$/;

/** Rust's text for an errno code, e.g. "ENOENT" -> "No such file or directory (os error 2)". */
export function osErrorText(code: string): string {
  const n = (os.errno as Record<string, number>)[code];
  const text = STRERROR[code] ?? code;
  return n === undefined ? text : `${text} (os error ${n})`;
}

/** What Rust's io::Error would display for a Node error (an errno code, else its message). */
export function ioErrorText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (typeof code === 'string' && ERRNO_CODE.test(code) && code in os.errno) return osErrorText(code);
  return e instanceof Error ? e.message : String(e);
}

export function isErrnoCode(s: string): boolean {
  return ERRNO_CODE.test(s) && s in os.errno;
}

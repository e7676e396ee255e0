// The WASI preview1 calls StarlingMonkey makes while it initializes (what wizer gives it when
// componentize-js snapshots a process): an environment, a command line on stdin, a read-only
// directory holding the bindings and the bundled source, clocks and randomness. Everything else
// fails with an error code, as it would on a read-only file system. Nothing reaches the real disk.

const ERRNO = { SUCCESS: 0, ACCES: 2, BADF: 8, INVAL: 28, ISDIR: 31, NOENT: 44, NOTSUP: 58, ROFS: 69, SPIPE: 70 } as const;
const FILETYPE = { CHARACTER_DEVICE: 2, DIRECTORY: 3, REGULAR_FILE: 4 } as const;
const OFLAGS_CREAT = 1;
const OFLAGS_DIRECTORY = 2;
const OFLAGS_TRUNC = 8;
const PREOPEN_FD = 3;
const ALL_RIGHTS = 0xffffffffn;

/** The guest called proc_exit (StarlingMonkey does so with 1 after printing an uncaught error). */
export class GuestExit extends Error {
  override name = 'GuestExit';
  constructor(readonly code: number) {
    super(`the engine exited with code ${code}`);
  }
}

interface OpenFile {
  bytes: Uint8Array;
  pos: number;
}

export interface InitWasiOptions {
  env: Record<string, string>;
  /** What the guest reads from stdin (StarlingMonkey reads its command line there). */
  stdin: Uint8Array;
  /** Files of the one preopened directory, "/", by relative path. */
  files: ReadonlyMap<string, Uint8Array>;
}

export class InitWasi {
  private memory?: { buffer: ArrayBuffer };
  private readonly fds = new Map<number, OpenFile>();
  private nextFd = PREOPEN_FD + 1;
  private readonly stdin: OpenFile;
  private readonly stdout: Uint8Array[] = [];
  private readonly stderr: Uint8Array[] = [];
  private readonly envStrings: Uint8Array[];

  constructor(private readonly opts: InitWasiOptions) {
    this.stdin = { bytes: opts.stdin, pos: 0 };
    this.envStrings = Object.entries(opts.env).map(([k, v]) => new TextEncoder().encode(`${k}=${v}\0`));
  }

  /** Call once the instance exists: every call reads and writes its exported memory. */
  bind(memory: { buffer: ArrayBuffer }): void {
    this.memory = memory;
  }

  stderrText(): string {
    return new TextDecoder().decode(Buffer.concat(this.stderr));
  }

  stdoutText(): string {
    return new TextDecoder().decode(Buffer.concat(this.stdout));
  }

  private view(): DataView {
    if (!this.memory) throw new Error('InitWasi used before bind()');
    return new DataView(this.memory.buffer);
  }

  private bytes(): Uint8Array {
    return new Uint8Array(this.view().buffer);
  }

  private path(ptr: number, len: number): string {
    const raw = new TextDecoder().decode(this.bytes().subarray(ptr, ptr + len));
    return raw
      .split('/')
      .filter((p) => p !== '' && p !== '.')
      .join('/');
  }

  /** The import object for module `wasi_snapshot_preview1`. */
  imports(): Record<string, (...args: never[]) => unknown> {
    const listSizes = (list: Uint8Array[], countPtr: number, sizePtr: number) => {
      const v = this.view();
      v.setUint32(countPtr, list.length, true);
      v.setUint32(sizePtr, list.reduce((n, s) => n + s.length, 0), true);
      return ERRNO.SUCCESS;
    };
    const listGet = (list: Uint8Array[], ptrs: number, buf: number) => {
      const v = this.view();
      const mem = this.bytes();
      let at = buf;
      list.forEach((s, i) => {
        v.setUint32(ptrs + 4 * i, at, true);
        mem.set(s, at);
        at += s.length;
      });
      return ERRNO.SUCCESS;
    };
    return {
      args_sizes_get: (countPtr: number, sizePtr: number) => listSizes([], countPtr, sizePtr),
      args_get: () => ERRNO.SUCCESS,
      environ_sizes_get: (countPtr: number, sizePtr: number) => listSizes(this.envStrings, countPtr, sizePtr),
      environ_get: (ptrs: number, buf: number) => listGet(this.envStrings, ptrs, buf),
      clock_time_get: (id: number, _precision: bigint, out: number) => {
        const ns = id === 0 ? BigInt(Date.now()) * 1_000_000n : process.hrtime.bigint();
        this.view().setBigUint64(out, ns, true);
        return ERRNO.SUCCESS;
      },
      random_get: (buf: number, len: number) => {
        const mem = this.bytes();
        for (let i = 0; i < len; i += 65536) crypto.getRandomValues(mem.subarray(buf + i, buf + Math.min(len, i + 65536)));
        return ERRNO.SUCCESS;
      },
      fd_write: (fd: number, iovs: number, n: number, written: number) => {
        if (fd !== 1 && fd !== 2) return ERRNO.BADF;
        const v = this.view();
        let total = 0;
        for (let i = 0; i < n; i++) {
          const ptr = v.getUint32(iovs + 8 * i, true);
          const len = v.getUint32(iovs + 8 * i + 4, true);
          (fd === 1 ? this.stdout : this.stderr).push(this.bytes().slice(ptr, ptr + len));
          total += len;
        }
        v.setUint32(written, total, true);
        return ERRNO.SUCCESS;
      },
      fd_read: (fd: number, iovs: number, n: number, read: number) => {
        const file = fd === 0 ? this.stdin : this.fds.get(fd);
        if (!file) return fd === PREOPEN_FD ? ERRNO.ISDIR : ERRNO.BADF;
        const v = this.view();
        let total = 0;
        for (let i = 0; i < n; i++) {
          const ptr = v.getUint32(iovs + 8 * i, true);
          const len = v.getUint32(iovs + 8 * i + 4, true);
          const chunk = file.bytes.subarray(file.pos, file.pos + len);
          this.bytes().set(chunk, ptr);
          file.pos += chunk.length;
          total += chunk.length;
          if (chunk.length < len) break;
        }
        v.setUint32(read, total, true);
        return ERRNO.SUCCESS;
      },
      fd_seek: (fd: number, offset: bigint, whence: number, out: number) => {
        const file = this.fds.get(fd);
        if (!file) return fd <= 2 ? ERRNO.SPIPE : ERRNO.BADF;
        const base = whence === 0 ? 0 : whence === 1 ? file.pos : whence === 2 ? file.bytes.length : Number.NaN;
        const pos = base + Number(offset);
        if (!Number.isFinite(pos) || pos < 0) return ERRNO.INVAL;
        file.pos = pos;
        this.view().setBigUint64(out, BigInt(pos), true);
        return ERRNO.SUCCESS;
      },
      fd_close: (fd: number) => (this.fds.delete(fd) ? ERRNO.SUCCESS : ERRNO.BADF),
      fd_fdstat_get: (fd: number, out: number) => {
        const type = fd <= 2 ? FILETYPE.CHARACTER_DEVICE : fd === PREOPEN_FD ? FILETYPE.DIRECTORY : this.fds.has(fd) ? FILETYPE.REGULAR_FILE : 0;
        if (type === 0) return ERRNO.BADF;
        const v = this.view();
        v.setUint8(out, type);
        v.setUint16(out + 2, 0, true);
        v.setBigUint64(out + 8, ALL_RIGHTS, true);
        v.setBigUint64(out + 16, ALL_RIGHTS, true);
        return ERRNO.SUCCESS;
      },
      fd_fdstat_set_flags: () => ERRNO.NOTSUP,
      fd_prestat_get: (fd: number, out: number) => {
        if (fd !== PREOPEN_FD) return ERRNO.BADF;
        const v = this.view();
        v.setUint8(out, 0); // a directory
        v.setUint32(out + 4, 1, true); // its name, "/"
        return ERRNO.SUCCESS;
      },
      fd_prestat_dir_name: (fd: number, ptr: number, len: number) => {
        if (fd !== PREOPEN_FD) return ERRNO.BADF;
        if (len < 1) return ERRNO.INVAL;
        this.bytes()[ptr] = 0x2f; // "/"
        return ERRNO.SUCCESS;
      },
      fd_readdir: () => ERRNO.NOTSUP,
      path_open: (dirFd: number, _dirFlags: number, pathPtr: number, pathLen: number, oflags: number, _rb: bigint, _ri: bigint, _fdflags: number, out: number) => {
        if (dirFd !== PREOPEN_FD) return ERRNO.BADF;
        if (oflags & (OFLAGS_CREAT | OFLAGS_TRUNC)) return ERRNO.ROFS;
        const bytes = this.opts.files.get(this.path(pathPtr, pathLen));
        if (!bytes) return ERRNO.NOENT;
        if (oflags & OFLAGS_DIRECTORY) return ERRNO.INVAL;
        const fd = this.nextFd++;
        this.fds.set(fd, { bytes, pos: 0 });
        this.view().setUint32(out, fd, true);
        return ERRNO.SUCCESS;
      },
      path_filestat_get: (dirFd: number, _flags: number, pathPtr: number, pathLen: number, out: number) => {
        if (dirFd !== PREOPEN_FD) return ERRNO.BADF;
        const bytes = this.opts.files.get(this.path(pathPtr, pathLen));
        if (!bytes) return ERRNO.NOENT;
        const v = this.view();
        for (let i = 0; i < 64; i += 8) v.setBigUint64(out + i, 0n, true);
        v.setUint8(out + 16, FILETYPE.REGULAR_FILE);
        v.setBigUint64(out + 24, 1n, true);
        v.setBigUint64(out + 32, BigInt(bytes.length), true);
        return ERRNO.SUCCESS;
      },
      path_remove_directory: () => ERRNO.ROFS,
      path_unlink_file: () => ERRNO.ROFS,
      proc_exit: (code: number) => {
        throw new GuestExit(code);
      },
    };
  }
}

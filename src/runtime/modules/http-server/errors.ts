// Errors of the node's HTTP server that callers act on.

/** The HTTP port is taken: the node cannot serve its RPC endpoint there. */
export class PortInUseError extends Error {
  override name = 'PortInUseError';
  constructor(
    readonly port: number,
    readonly host?: string,
  ) {
    super(
      `port ${port}${host ? ` on ${host}` : ''} is already in use: stop whatever is listening there ` +
        `(another node?) or pick another port, e.g. --port ${port + 1}`,
    );
  }
}

/** Listening failed for a reason other than a taken port (permissions, bad host, ...). */
export class HttpListenError extends Error {
  override name = 'HttpListenError';
  constructor(
    readonly port: number,
    readonly code: string | undefined,
    detail: string,
  ) {
    super(
      code === 'EACCES'
        ? `cannot listen on port ${port}: permission denied (ports below 1024 need privileges; pick another port)`
        : `cannot listen on port ${port}: ${detail}`,
    );
  }
}

/** A request body went over its limit; answered with 413. */
export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError';
  constructor(readonly limit: number) {
    super(`request body is larger than the ${limit}-byte limit`);
  }
}

/** A `POST /rpc:distro:sys/message` body that is not an RpcMessage; answered with 400. */
export class RpcFormatError extends Error {
  override name = 'RpcFormatError';
}

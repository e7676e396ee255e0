// Bare JSON-RPC over HTTP for probing a port before any viem client exists.

export class RpcError extends Error {
  override name = 'RpcError';
}

export async function rpcCall<T = unknown>(url: string, method: string, params: unknown[] = [], timeoutMs = 2000): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const json = (await res.json()) as { result?: T; error?: { message: string } };
  if (json.error) throw new RpcError(`${method}: ${json.error.message}`);
  return json.result as T;
}

/** The block number if an Ethereum JSON-RPC node answers at `url`, else undefined. */
export async function probeChain(url: string, timeoutMs = 1000): Promise<bigint | undefined> {
  try {
    const r = await rpcCall<string>(url, 'eth_blockNumber', [], timeoutMs);
    return typeof r === 'string' && r.startsWith('0x') ? BigInt(r) : undefined;
  } catch {
    return undefined;
  }
}

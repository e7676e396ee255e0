// Wire shapes that both the node's runtime modules and kit/process (what processes import) speak,
// kept once: Hyperdrive's eth method whitelist and http-client's error enum.

/** The JSON-RPC methods eth:distro:sys passes on (Hyperdrive's valid_method); others are InvalidMethod. */
export const ETH_VALID_METHODS = [
  'eth_getBalance',
  'eth_sendRawTransaction',
  'eth_call',
  'eth_chainId',
  'eth_getTransactionReceipt',
  'eth_getTransactionCount',
  'eth_estimateGas',
  'eth_blockNumber',
  'eth_getBlockByHash',
  'eth_getBlockByNumber',
  'eth_getTransactionByHash',
  'eth_getCode',
  'eth_getStorageAt',
  'eth_gasPrice',
  'eth_accounts',
  'eth_hashrate',
  'eth_getLogs',
  'eth_subscribe',
  'eth_unsubscribe',
] as const;

/** `HttpClientError` as serde_json writes it (hyperdrive/lib/src/http/client_types.rs). */
export type HttpClientErrorJson =
  | 'MalformedRequest'
  | { BadMethod: { method: string } }
  | { BadUrl: { url: string } }
  | { BadVersion: { version: string } }
  | { BuildRequestFailed: string }
  | { ExecuteRequestFailed: string }
  | { WsOpenFailed: { url: string } }
  | { WsPushUnknownChannel: { channel_id: number } }
  | 'WsPushNoBlob'
  | 'WsPushBadText'
  | { WsCloseFailed: { channel_id: number } };

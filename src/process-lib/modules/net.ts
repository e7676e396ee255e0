// `net:distro:sys` (book: Net API). Most of its API is MessagePack for the runtime's own use; what
// a process needs is `hi`: a text that the other node prints on its terminal, answered "ack".

import { Request } from '../message.js';
import { ourModule } from './call.js';

/** Say hi to a node: it prints `<our node>: <text>` and answers "ack" (returned). */
export function hi(node: string, text: string, timeout = 10): string {
  return Request.to(ourModule('net', node)).body(text).sendAndAwaitResponse(timeout).text();
}

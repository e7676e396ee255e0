// The chat process, with a web UI: it sends messages to the chat process on other nodes, keeps
// each conversation, and serves the UI that `kit build` puts in pkg/ui, at
// http://localhost:<port>/chat:chat:template.os/ (log in with the node's password).
//   GET  /chat:chat:template.os/messages   every conversation, {"History": {<node>: [...]}}
//   POST /chat:chat:template.os/messages   {"Send": {"target": "fake2.dev", "message": "hi"}}
//   WS   /chat:chat:template.os/ws         {"NewMessage": {"peer", "author", "content"}} per new message
// The API in api/chat:template.os-v0.wit works from a node's terminal too:
//   m our@chat:chat:template.os '{"Send": {"target": "fake2.dev", "message": "hello"}}'
import {
  type Address,
  awaitMessage,
  callInit,
  fromUtf8,
  getBlob,
  getTypedState,
  httpServer,
  type Message,
  processId,
  println,
  Request,
  respondJson,
  setState,
} from 'kit/process';

interface ChatMessage {
  author: string;
  content: string;
}

type ChatRequest = { Send: { target: string; message: string } } | { History: string };
type ChatResponse = 'Send' | { History: ChatMessage[] };

/** Conversations, by the name of the other node. */
type Archive = Record<string, ChatMessage[]>;

const PEER_PROCESS = processId('chat:chat:template.os');

/** Open WebSockets of the UI. */
const sockets = new Set<number>();

function record(archive: Archive, node: string, entry: ChatMessage): void {
  archive[node] = [...(archive[node] ?? []), entry];
  // Saved so the history survives a restart of the process or the node.
  setState(archive);
  const push = JSON.stringify({ NewMessage: { peer: node, ...entry } });
  for (const id of sockets) httpServer.wsPush(id, 'Text', push);
}

/** Send `text` to the chat process on `target`; recorded once it has it. */
function send(our: Address, archive: Archive, target: string, text: string): void {
  if (target === our.node) {
    // A note to ourselves: delivered here, as a message from another node would be (a process
    // cannot await a Response from itself).
    println(`${our.node}: ${text}`);
    record(archive, our.node, { author: our.node, content: text });
    return;
  }
  const reply = Request.to({ node: target, process: PEER_PROCESS })
    .json({ Send: { target, message: text } } satisfies ChatRequest)
    .sendAndAwaitResponse(5)
    .json<ChatResponse>();
  if (reply !== 'Send') throw new Error(`${target} answered ${JSON.stringify(reply)}`);
  record(archive, target, { author: our.node, content: text });
}

function handleHttp(our: Address, request: httpServer.HttpServerRequest, archive: Archive): void {
  if ('WebSocketOpen' in request) sockets.add(request.WebSocketOpen.channel_id);
  else if ('WebSocketClose' in request) sockets.delete(request.WebSocketClose);
  else if ('Http' in request) {
    const { method } = request.Http;
    if (method === 'GET') return httpServer.sendJsonResponse(200, { History: archive });
    if (method !== 'POST') return httpServer.sendResponse(405, { Allow: 'GET, POST' }, 'GET or POST /messages');
    let body: ChatRequest;
    try {
      body = JSON.parse(fromUtf8(getBlob()?.bytes ?? new Uint8Array()));
    } catch {
      return httpServer.sendResponse(400, {}, 'expected JSON {"Send": {"target": "<node>", "message": "<text>"}}');
    }
    if (!('Send' in body) || typeof body.Send?.target !== 'string' || typeof body.Send?.message !== 'string')
      return httpServer.sendResponse(400, {}, 'expected JSON {"Send": {"target": "<node>", "message": "<text>"}}');
    try {
      send(our, archive, body.Send.target, body.Send.message);
    } catch (e) {
      return httpServer.sendResponse(502, {}, `could not send to ${body.Send.target}: ${e instanceof Error ? e.message : String(e)}`);
    }
    httpServer.sendJsonResponse(200, 'Send' satisfies ChatResponse);
  }
}

function handle(our: Address, message: Message, archive: Archive): void {
  if (!message.isRequest()) return; // Responses to our Sends are awaited where they are sent.
  const http = httpServer.parseRequest(message);
  if (http) return handleHttp(our, http, archive);
  const request = message.json<ChatRequest>();
  if ('Send' in request) {
    const { target, message: text } = request.Send;
    if (target === our.node) {
      // A message for us, from the chat process of another node (or from ourselves).
      println(`${message.source.node}: ${text}`);
      record(archive, message.source.node, { author: message.source.node, content: text });
    } else {
      send(our, archive, target, text);
    }
    respondJson('Send' satisfies ChatResponse);
  } else if ('History' in request) {
    respondJson({ History: archive[request.History] ?? [] } satisfies ChatResponse);
  } else {
    throw new Error(`unknown request ${message.text()}`);
  }
}

export const init = callInit((our) => {
  const archive: Archive = getTypedState<Archive>() ?? {};
  // The UI and its API need the node's login cookie (authenticated: the default).
  try {
    httpServer.serveUi('ui', ['/']);
  } catch (e) {
    println(`no web UI to serve (${e instanceof Error ? e.message : String(e)}): build the package without --no-ui`);
  }
  httpServer.bind('/messages');
  httpServer.bindWebSocket('/ws');
  for (;;) {
    try {
      handle(our, awaitMessage(), archive);
    } catch (e) {
      println(`error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
});

import { type FormEvent, useEffect, useState } from 'react';
import { connectWebSocket, getJson, ourNode, postJson } from './hyperware';

/** What the chat process keeps and sends (see chat/src/lib.ts). */
interface ChatMessage {
  author: string;
  content: string;
}
type Archive = Record<string, ChatMessage[]>;
type Push = { NewMessage: { peer: string; author: string; content: string } };

export default function App() {
  const [archive, setArchive] = useState<Archive>({});
  const [target, setTarget] = useState('');
  const [text, setText] = useState('');
  const [error, setError] = useState('');
  const [live, setLive] = useState(false);

  useEffect(() => {
    getJson<{ History: Archive }>('/messages')
      .then((r) => setArchive((now) => ({ ...r.History, ...now })))
      .catch((e: Error) => setError(e.message));
    const socket = connectWebSocket<Push>('/ws', {
      onStatus: setLive,
      onMessage: (push) => {
        if (!('NewMessage' in push)) return;
        const { peer, author, content } = push.NewMessage;
        setArchive((now) => ({ ...now, [peer]: [...(now[peer] ?? []), { author, content }] }));
      },
    });
    return () => socket.close();
  }, []);

  async function send(event: FormEvent) {
    event.preventDefault();
    setError('');
    try {
      // The new message comes back over the WebSocket, like every other.
      await postJson('/messages', { Send: { target: target.trim(), message: text } });
      setText('');
    } catch (e) {
      setError((e as Error).message);
    }
  }

  return (
    <main>
      <header>
        <h1>Chat</h1>
        <span className="node" data-testid="our-node">
          {ourNode()}
        </span>
        <span className={live ? 'status live' : 'status'}>{live ? 'connected' : 'connecting...'}</span>
      </header>
      <form onSubmit={send}>
        <input aria-label="Send to" placeholder="fake2.dev" value={target} onChange={(e) => setTarget(e.target.value)} required />
        <input aria-label="Message" placeholder="Say something" value={text} onChange={(e) => setText(e.target.value)} required />
        <button type="submit">Send</button>
      </form>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {Object.keys(archive).length === 0 && <p className="empty">No messages yet.</p>}
      {Object.entries(archive).map(([peer, messages]) => (
        <section key={peer} className="conversation" data-peer={peer}>
          <h2>{peer}</h2>
          <ul>
            {messages.map((m, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: messages are only ever appended
              <li key={i} className="message">
                <b>{m.author}:</b> {m.content}
              </li>
            ))}
          </ul>
        </section>
      ))}
    </main>
  );
}

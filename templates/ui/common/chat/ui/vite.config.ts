// The UI is served by the node under the process's path, /<process>:<package>:<publisher>/, so
// that is Vite's `base`. `npm run dev` (or `kit dev-ui`) proxies the node's endpoints to the node
// at VITE_NODE_URL (kit dev-ui sets it; default http://127.0.0.1:8080).
import { readFileSync } from 'node:fs';
import react from '@vitejs/plugin-react';
import { createLogger, defineConfig } from 'vite';

const read = (path: string) => JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8'));
const manifest = read('../pkg/manifest.json');
const metadata = read('../metadata.json');

const BASE_URL = `/${manifest[0].process_name}:${metadata.properties.package_name}:${metadata.properties.publisher}`;
// 127.0.0.1 rather than localhost: Node may resolve localhost to ::1, where the node does not listen.
const NODE_URL = (process.env.VITE_NODE_URL || 'http://127.0.0.1:8080').replace('localhost', '127.0.0.1');

// A browser tab that closes while the node writes to its WebSocket ends the proxied socket with
// EPIPE or ECONNRESET: nothing is wrong, so no 10-line stack trace for it.
const logger = createLogger();
const logError = logger.error;
logger.error = (msg, options) => {
  const code = (options?.error as { code?: string } | null | undefined)?.code;
  if ((code === 'EPIPE' || code === 'ECONNRESET') && msg.includes('proxy')) return;
  logError(msg, options);
};

export default defineConfig({
  customLogger: logger,
  plugins: [react()],
  base: BASE_URL,
  build: { outDir: 'dist', emptyOutDir: true },
  server: {
    proxy: {
      '/our': NODE_URL,
      // In dev, Vite puts the base in front of index.html's /our.js.
      [`${BASE_URL}/our.js`]: { target: NODE_URL, rewrite: (path) => path.replace(BASE_URL, '') },
      '/login': NODE_URL,
      [`${BASE_URL}/messages`]: NODE_URL,
      [`${BASE_URL}/ws`]: { target: NODE_URL, ws: true },
    },
  },
});

// The node's own pages (homepage, App Store, settings), built at `npm run build` into dist/ui/node,
// which the npm package ships and the node serves (src/runtime/packages/node-ui.ts). One build for
// all three pages: asset URLs are relative (`./assets/…`) and made absolute per page when served.
// No plugins: Vite's own transform handles TSX with React's automatic runtime.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: './',
  logLevel: 'warn',
  publicDir: here('public'),
  build: {
    outDir: here('../../dist/ui/node'),
    emptyOutDir: true,
    // Chromium, Firefox and Safari of the last few years; no polyfills.
    target: 'es2022',
    reportCompressedSize: false,
    rollupOptions: {
      input: { index: here('index.html'), 'app-store': here('app-store.html'), settings: here('settings.html') },
      // React, shared by the three pages, in a chunk of its own.
      output: { codeSplitting: { groups: [{ name: 'react', test: /node_modules[\\/](react|react-dom|scheduler)[\\/]/ }] } },
    },
  },
});

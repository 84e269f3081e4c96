// Builds the web UI into dist-ui/ at the repository root (npm run build:ui); `floe api` serves it at /.
// Everything is bundled: the page loads nothing from another host (no CDN, no web fonts).
import path from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react()],
  build: {
    outDir: path.resolve(import.meta.dirname, '../dist-ui'),
    emptyOutDir: true,
    // The graph view's layout engine (elkjs) is a large chunk of its own, loaded only with that view.
    chunkSizeWarningLimit: 1800,
  },
  // `npx vite --config ui/vite.config.ts` during development: the API of a local `floe api` on port 8080.
  server: { proxy: { '/api': 'http://127.0.0.1:8080', '/health': 'http://127.0.0.1:8080' } },
});

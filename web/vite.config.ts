// Vite builds two pages into the Python package (src/evfleet/web/static), served by
// evfleet.web.mount_web: index.html at "/" (the dispatcher dashboard, hash-routed) and
// track.html at "/track/<token>" (the customer tracking page). Assets are hashed and
// referenced as "/assets/...", which mount_web serves with long cache headers.
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = fileURLToPath(new URL(".", import.meta.url));
const api = process.env.EVFLEET_API ?? "http://127.0.0.1:8000";

export default defineConfig({
  base: "/",
  build: {
    outDir: resolve(here, "../src/evfleet/web/static"),
    emptyOutDir: true,
    assetsDir: "assets",
    target: "es2020",
    sourcemap: false,
    // Keep every asset a file under /assets (served with long cache headers), none inlined.
    assetsInlineLimit: 0,
    rollupOptions: {
      input: {
        index: resolve(here, "index.html"),
        track: resolve(here, "track.html"),
      },
    },
  },
  server: {
    // `npm run dev` against a running `evfleet serve` (EVFLEET_API, default port 8000).
    proxy: {
      "/api": { target: api, changeOrigin: false, ws: true },
    },
  },
});

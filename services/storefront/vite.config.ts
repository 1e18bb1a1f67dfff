import { defineConfig } from 'vite';

// The page is served by the gateway at `/`, from the same origin as the API it calls.
export default defineConfig({
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
});

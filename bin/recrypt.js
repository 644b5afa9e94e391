#!/usr/bin/env node
// The `recrypt` command: runs the compiled CLI from dist/ (npm run build); in a source checkout without
// a build it runs the TypeScript sources through tsx.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
let cli;
if (existsSync(fileURLToPath(compiled))) {
  cli = await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
await cli.main(process.argv.slice(2));

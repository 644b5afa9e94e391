#!/usr/bin/env node
// The `recrypt` command: runs the compiled CLI (npm run build writes dist/).
import('../dist/cli/main.js').then((cli) => cli.main(process.argv.slice(2))).catch((err) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});

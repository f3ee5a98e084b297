#!/usr/bin/env node
// Installed entry point; the CLI itself is compiled to dist/ by `npm run build`.
const { main } = require('../dist/electron/cli.js');
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`internal error: ${(err && err.stack) || String(err)}\n`);
    process.exitCode = 1;
  },
);

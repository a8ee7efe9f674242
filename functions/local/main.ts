#!/usr/bin/env node
// The `catalog-build` executable: runs the command line (cli.ts, lib/cli's commands plus
// pipeline and serve) and sets the exit status.
import { main } from './cli.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`error: ${String(err)}\n`);
    process.exitCode = 1;
  },
);

#!/usr/bin/env node
// The `catalog-build` executable: runs the command line (cli.ts, lib/cli's commands plus
// pipeline and serve) and sets the exit status.
import { secondCpuAvailable, startDecodingThreadEarly } from '../../lib/stages/document-decoder.js';

const argv = process.argv.slice(2);
// A build (no sub-command) decodes its manifests on a second thread: started before the rest
// of the command line loads, its start-up overlaps that loading.
if ((!argv[0] || argv[0].startsWith('-')) && secondCpuAvailable()) startDecodingThreadEarly();
const { main } = await import('./cli.js');

main(argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`error: ${String(err)}\n`);
    process.exitCode = 1;
  },
);

// `catalog-build serve-appregistry --dir DIR --org ORG [--port N] [--host H] [--token T]`:
// serves a directory of package folders as an App Registry org on loopback, for the README
// demo and for trying the builder without quay.io. Prints the endpoint URL (with its /cnr
// path) on stdout, so a script can capture it, and runs until SIGINT or SIGTERM.
import { parseArgs } from 'node:util';
import { startAppRegistryServer } from '../appregistry/server.js';
import { untilStopped } from './until-stopped.js';

const USAGE =
  'usage: catalog-build serve-appregistry --dir DIR --org ORG [--port N] [--host H] [--token T]';

export async function serveAppRegistryCommand(argv: string[]): Promise<number> {
  let values: {
    dir?: string;
    org?: string;
    port?: string;
    host?: string;
    token?: string;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        dir: { type: 'string' },
        org: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        token: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n${USAGE}\n`);
    return 1;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!values.dir || !values.org) {
    process.stderr.write(`error: --dir and --org are required\n${USAGE}\n`);
    return 1;
  }
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(
      `error: --port must be an integer from 0 to 65535, got ${JSON.stringify(values.port)}\n`,
    );
    return 1;
  }
  let server: Awaited<ReturnType<typeof startAppRegistryServer>>;
  try {
    server = await startAppRegistryServer({
      dir: values.dir,
      org: values.org,
      port,
      host: values.host ?? '127.0.0.1',
      ...(values.token === undefined ? {} : { token: values.token }),
    });
  } catch (err) {
    process.stderr.write(
      `error: serving App Registry from ${values.dir}: ${(err as Error).message}\n`,
    );
    return 1;
  }
  process.stdout.write(`${server.url}\n`);
  process.stderr.write(
    `serving ${server.packages.size} packages of org ${values.org}; stop with Ctrl-C\n`,
  );
  await untilStopped();
  await server.stop();
  return 0;
}

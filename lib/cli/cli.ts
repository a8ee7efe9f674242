// The `catalog-build` command line as a function (functions/local/main.ts only runs it):
// dispatches to a sub-command (serve-appregistry, graph, diff) or runs a build with
// oc-compatible flags. Errors print as "error: <message>" on stderr with exit status 1, as oc
// did; usage errors exit 2 with a hint. The commands that run the Lambda handlers locally
// (pipeline, serve) live in functions/local and come in as `extra`: lib never imports
// functions/. Tests call it in-process, which is why it is not the executable itself.
import { UsageError } from '../errors.js';
import { redactText } from '../redact.js';
import { buildCommand } from './build-command.js';

export type Command = (argv: string[]) => Promise<number>;
/** Sub-commands by name, each loaded on first use. */
export type CommandTable = Record<string, () => Promise<Command>>;

const COMMANDS: CommandTable = {
  'serve-appregistry': async () => (await import('./serve-appregistry.js')).serveAppRegistryCommand,
  graph: async () => (await import('./graph-command.js')).graphCommand,
  diff: async () => (await import('./diff-command.js')).diffCommand,
  build: async () => buildCommand,
};

export async function main(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  extra: CommandTable = {},
): Promise<number> {
  const commands: CommandTable = { ...COMMANDS, ...extra };
  // The AWS SDK prints a 9-line notice about future Node versions on every ECR run (even with
  // -q); a command line tool's users cannot act on it, so the CLI turns it off. Lambda keeps it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const [first, ...rest] = argv;
  try {
    const load = first && !first.startsWith('-') ? commands[first] : undefined;
    if (first && !first.startsWith('-') && !load) {
      throw new UsageError(
        `unknown command "${first}" (commands: ${Object.keys(commands).join(', ')}; run with --help)`,
      );
    }
    return load ? await (await load())(rest) : await buildCommand(argv, env);
  } catch (err) {
    const e = err as Error;
    process.stderr.write(`error: ${redactText(e.message)}\n`);
    if (err instanceof UsageError) {
      process.stderr.write('See "catalog-build --help" for usage.\n');
      return 2;
    }
    if (process.env.CATALOG_BUILD_DEBUG) process.stderr.write(`${redactText(String(e.stack))}\n`);
    return 1;
  }
}

// The whole `catalog-build` command line: lib/cli's commands plus the two that run the Lambda
// handlers on this machine (pipeline, serve). This room is the composition root that may
// import both lib/ and functions/; lib/cli itself never imports functions/.
import { type CommandTable, main as libMain } from '../../lib/cli/cli.js';

export const LOCAL_COMMANDS: CommandTable = {
  pipeline: async () => (await import('./pipeline.js')).pipelineCommand,
  serve: async () => (await import('./serve-command.js')).serveCommand,
};

export function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return libMain(argv, env, LOCAL_COMMANDS);
}

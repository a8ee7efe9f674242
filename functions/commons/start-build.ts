// Starting a build, shared by the API, the watcher and the base-image trigger: store the
// validated request (secret names only), then start the execution named after the build,
// so a second start of the same build is refused by Step Functions instead of running twice.
// The execution input is the request without its bundle list (executionInput): the stages
// that need the list read the stored request.
import { ExecutionAlreadyExists, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { UsageError } from '../../lib/errors.js';
import { executionInput, saveBuildRequest } from '../../lib/stages/build-request.js';
import type { BuildRequest } from '../../lib/stages/types.js';
import { type FunctionRuntime, stepFunctions } from './runtime.js';

export interface StartedBuild {
  buildId: string;
  executionArn: string;
  alreadyStarted: boolean;
}

export function executionArnOf(stateMachineArn: string, buildId: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${buildId}`;
}

export async function startBuild(
  runtime: FunctionRuntime,
  request: BuildRequest,
): Promise<StartedBuild> {
  if (!runtime.stateMachineArn)
    throw new UsageError('starting a build: STATE_MACHINE_ARN is not configured');
  await saveBuildRequest(runtime.store, request);
  try {
    const sfn = await stepFunctions(runtime);
    const out = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: runtime.stateMachineArn,
        name: request.buildId,
        input: JSON.stringify(executionInput(request)),
      }),
    );
    return {
      buildId: request.buildId,
      executionArn: out.executionArn ?? executionArnOf(runtime.stateMachineArn, request.buildId),
      alreadyStarted: false,
    };
  } catch (err) {
    if (err instanceof ExecutionAlreadyExists) {
      return {
        buildId: request.buildId,
        executionArn: executionArnOf(runtime.stateMachineArn, request.buildId),
        alreadyStarted: true,
      };
    }
    throw err;
  }
}

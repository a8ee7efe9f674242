// Step Functions on one machine, for `catalog-build serve`: answers the three calls our
// handlers make (StartExecution, DescribeExecution, GetExecutionHistory) by running the real
// state machine definition with the local runner (lib/stages/pipeline-local.ts) and the real
// handlers in this process. Handed to the API, the watcher and the base-image logic as the
// runtime's `sfn`, so they run unchanged: the same code paths as in AWS, without an account.
// Executions live in memory; after a restart a build is known by its report alone.
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { LOCAL_STATE_MACHINE_ARN, runLocalExecution } from '../../lib/stages/pipeline-local.js';
import { getJson } from '../../lib/store/store.js';
import { invokeLocalFunction } from './local-handlers.js';
import { functionRuntime } from './runtime.js';

interface LocalExecutionState {
  executionArn: string;
  name: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  startDate: Date;
  stopDate?: Date;
  /** States entered, oldest first. */
  entered: Array<{ name: string; timestamp: Date }>;
  done: Promise<void>;
}

export interface LocalStepFunctions {
  /** The client to put in the function runtime (only the three commands above are answered). */
  client: SFNClient;
  stateMachineArn: string;
  /** Settles when every execution started so far has finished. */
  idle(): Promise<void>;
  executions(): Array<{ name: string; status: string; startDate: Date; stopDate?: Date }>;
}

export function localStepFunctions(
  options: { onFinish?: (name: string, status: string) => void } = {},
): LocalStepFunctions {
  const executions = new Map<string, LocalExecutionState>();
  const arnOf = (name: string) =>
    `${LOCAL_STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${name}`;
  const find = (arn: string | undefined) => {
    const e = [...executions.values()].find((x) => x.executionArn === arn);
    if (!e)
      throw new ExecutionDoesNotExist({
        message: `Execution Does Not Exist: '${arn}'`,
        $metadata: {},
      });
    return e;
  };
  const send = async (command: unknown): Promise<unknown> => {
    if (command instanceof StartExecutionCommand) {
      const { name, input } = command.input;
      if (!name) throw new TypeError('starting an execution: a name is required');
      if (executions.has(name))
        throw new ExecutionAlreadyExists({
          message: `Execution Already Exists: '${arnOf(name)}'`,
          $metadata: {},
        });
      const state: LocalExecutionState = {
        executionArn: arnOf(name),
        name,
        status: 'RUNNING',
        startDate: new Date(),
        entered: [],
        done: Promise.resolve(),
      };
      executions.set(name, state);
      state.done = runLocalExecution(JSON.parse(input ?? '{}'), invokeLocalFunction, {
        executionName: name,
        // The Distributed Map's ItemReader (orgs over 1,000 packages): the functions' store.
        readItems: (_bucket, key) => getJson(functionRuntime().store, key),
        onEvent: (event) => {
          if (event.type === 'StateEntered' && 'state' in event)
            state.entered.push({ name: event.state.name, timestamp: new Date() });
        },
      }).then(
        (run) => {
          state.status = run.status;
          state.stopDate = new Date();
          options.onFinish?.(name, run.status);
        },
        () => {
          state.status = 'FAILED';
          state.stopDate = new Date();
          options.onFinish?.(name, 'FAILED');
        },
      );
      return { executionArn: state.executionArn, startDate: state.startDate };
    }
    if (command instanceof DescribeExecutionCommand) {
      const e = find(command.input.executionArn);
      return {
        executionArn: e.executionArn,
        stateMachineArn: LOCAL_STATE_MACHINE_ARN,
        name: e.name,
        status: e.status,
        startDate: e.startDate,
        stopDate: e.stopDate,
      };
    }
    if (command instanceof GetExecutionHistoryCommand) {
      const e = find(command.input.executionArn);
      const events = e.entered.map((s, i) => ({
        id: i + 1,
        type: 'TaskStateEntered',
        timestamp: s.timestamp,
        stateEnteredEventDetails: { name: s.name },
      }));
      if (command.input.reverseOrder) events.reverse();
      return { events: events.slice(0, command.input.maxResults ?? events.length) };
    }
    throw new TypeError(
      `local Step Functions: ${(command as object).constructor.name} is not supported`,
    );
  };
  return {
    client: { send } as unknown as SFNClient,
    stateMachineArn: LOCAL_STATE_MACHINE_ARN,
    async idle() {
      await Promise.all([...executions.values()].map((e) => e.done));
    },
    executions: () =>
      [...executions.values()].map((e) => ({
        name: e.name,
        status: e.status,
        startDate: e.startDate,
        ...(e.stopDate ? { stopDate: e.stopDate } : {}),
      })),
  };
}

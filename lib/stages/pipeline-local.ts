// Runs the real state machine definition (infra/state-machine.asl.json) on this machine with
// aws-local-stepfunctions: the same states, Retry, Catch, Map and Choice as in AWS, with each
// Task's Lambda replaced by an in-process function keyed by the function's logical id. The
// CloudFormation intrinsics the definition holds (Fn::GetAtt) become fixed local ARNs here.
// This is the engine of `catalog-build pipeline` and of the end-to-end tests.
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import definition from '../../infra/state-machine.asl.json' with { type: 'json' };

// aws-local-stepfunctions' Task states use Promise.withResolvers, which Node 20 lacks.
if (typeof (Promise as { withResolvers?: unknown }).withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value<T>() {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_STATE_MACHINE_ARN = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:catalog-build`;

/** "ListPackagesLambdaFunction" (the serverless logical id) → the local ARN of that function. */
export function localFunctionArn(logicalId: string): string {
  return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:catalog-build-${logicalId.replace(/LambdaFunction$/, '')}`;
}

/** One entry of the execution's event log (the package does not export the type). */
export type ExecutionEvent =
  ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** The definition as CloudFormation would deploy it, with intrinsics resolved to local ARNs. */
export function resolvedDefinition(raw: unknown = definition): StateMachineDefinition {
  const walk = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      const getAtt = v['Fn::GetAtt'];
      if (Array.isArray(getAtt) && getAtt[1] === 'Arn') return localFunctionArn(String(getAtt[0]));
      const sub = v['Fn::Sub'];
      if (typeof sub === 'string') {
        return sub
          .replace(/\$\{AWS::Region\}/g, LOCAL_REGION)
          .replace(/\$\{AWS::AccountId\}/g, LOCAL_ACCOUNT)
          .replace(/\$\{AWS::Partition\}/g, 'aws');
      }
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    }
    return v;
  };
  return walk(raw as Json) as unknown as StateMachineDefinition;
}

/** Task state name → function logical id ("ListPackages"), nested Map states included. */
export function taskFunctions(raw: unknown = definition): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (states: Record<string, Record<string, unknown>>) => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === 'Task') {
        const getAtt = (state.Resource as { 'Fn::GetAtt'?: string[] })?.['Fn::GetAtt'];
        if (getAtt?.[0]) out.set(name, getAtt[0].replace(/LambdaFunction$/, ''));
      }
      const inner = (state.ItemProcessor ?? state.Iterator) as
        | { States?: Record<string, Record<string, unknown>> }
        | undefined;
      if (inner?.States) visit(inner.States);
    }
  };
  visit((raw as { States: Record<string, Record<string, unknown>> }).States);
  return out;
}

/** Invokes the function with that logical id ("FetchPackage") on an event. */
export type LocalInvoke = (functionId: string, event: unknown) => Promise<unknown>;

export interface LocalExecution {
  executionArn: string;
  status: 'SUCCEEDED' | 'FAILED';
  output?: unknown;
  error?: { name: string; cause: string };
  /** Largest state input/output seen, in bytes of JSON (Step Functions caps them at 256 KB). */
  largestPayload: { bytes: number; state: string };
  /** Task invocations per state name, retries included. */
  invocations: Record<string, number>;
  retries: number;
}

export interface LocalRunOptions {
  executionName: string;
  /** Pause before each retry (default 0: a local run does not wait out Lambda backoff). */
  retryDelayMs?: number;
  onEvent?: (event: ExecutionEvent) => void;
  definition?: unknown;
}

export async function runLocalExecution(
  input: unknown,
  invoke: LocalInvoke,
  options: LocalRunOptions,
): Promise<LocalExecution> {
  const raw = options.definition ?? definition;
  const tasks = taskFunctions(raw);
  const invocations: Record<string, number> = {};
  const taskResourceLocalHandlers: Record<string, (input: unknown) => Promise<Json>> = {};
  const retryIntervalOverrides: Record<string, number> = {};
  for (const [state, fn] of tasks) {
    invocations[state] = 0;
    retryIntervalOverrides[state] = options.retryDelayMs ?? 0;
    taskResourceLocalHandlers[state] = async (event) => {
      invocations[state] = (invocations[state] ?? 0) + 1;
      return ((await invoke(fn, event)) ?? null) as Json;
    };
  }
  const machine = new StateMachine(resolvedDefinition(raw), {
    validationOptions: { checkArn: true, checkPaths: true },
  });
  const executionArn = `${LOCAL_STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${options.executionName}`;
  const execution = machine.run(input as Json, {
    overrides: {
      taskResourceLocalHandlers: taskResourceLocalHandlers as never,
      retryIntervalOverrides,
    },
    context: {
      Execution: {
        Id: executionArn,
        Name: options.executionName,
        Input: input as Json,
        StartTime: new Date().toISOString(),
      },
      StateMachine: { Id: LOCAL_STATE_MACHINE_ARN, Name: 'catalog-build' },
    },
  });
  const largestPayload = { bytes: 0, state: '' };
  let retries = 0;
  const watching = (async () => {
    for await (const event of execution.eventLogs) {
      options.onEvent?.(event);
      if (event.type === 'StateRetried') retries++;
      if ('state' in event) {
        for (const payload of [event.state.input, event.state.output]) {
          if (payload === undefined) continue;
          const bytes = Buffer.byteLength(JSON.stringify(payload));
          if (bytes > largestPayload.bytes)
            Object.assign(largestPayload, { bytes, state: event.state.name });
        }
      }
    }
  })();
  try {
    const output = await execution.result;
    await watching;
    return { executionArn, status: 'SUCCEEDED', output, largestPayload, invocations, retries };
  } catch (err) {
    await watching.catch(() => {});
    const e = err as { name?: string; message?: string; cause?: unknown };
    // ExecutionError wraps the state's error; its cause holds the ASL Error/Cause pair.
    const inner = e.cause as { name?: string; message?: string; cause?: unknown } | undefined;
    const name = inner?.name ?? e.name ?? 'Error';
    const cause =
      typeof inner?.cause === 'string' ? inner.cause : (inner?.message ?? e.message ?? '');
    return {
      executionArn,
      status: 'FAILED',
      error: { name, cause },
      largestPayload,
      invocations,
      retries,
    };
  }
}

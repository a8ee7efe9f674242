// Runs the real state machine definition (infra/state-machine.asl.json) on this machine with
// aws-local-stepfunctions: the same states, Retry, Catch, Map and Choice as in AWS, with each
// Task's Lambda replaced by an in-process function keyed by the function's logical id. The
// CloudFormation intrinsics the definition holds (Fn::GetAtt) become fixed local ARNs here.
// This is the engine of `catalog-build pipeline` and of the end-to-end tests; as a shipped
// command needs it, aws-local-stepfunctions is a runtime dependency (not a devDependency).
// aws-local-stepfunctions has no Distributed Map (it ignores ItemReader), so a DISTRIBUTED
// Map state runs here as AWS runs it: a map run that reads its items from the store (the
// ItemReader's object) and one child execution per item, each with its own event history.
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import definition from '../../infra/state-machine.asl.json' with { type: 'json' };
import { mapSettled } from '../http/limiter.js';

/**
 * aws-local-stepfunctions' Task states call Promise.withResolvers, which Node 20 lacks (22 has
 * it). The library takes no injected implementation, so the standard method is provided —
 * only when a local execution starts, never as a side effect of importing this module.
 */
function provideWithResolvers(): void {
  if (typeof (Promise as { withResolvers?: unknown }).withResolvers === 'function') return;
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
/** What `{"Ref": "CatalogBucket"}` (the store bucket) resolves to in a local run. */
export const LOCAL_BUCKET = 'catalog-build-local';

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
      if (v.Ref === 'CatalogBucket') return LOCAL_BUCKET;
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

/** Step Functions quotas of a Standard execution that a build must stay under. */
export const STEP_FUNCTIONS_LIMITS = {
  payloadBytes: 256 * 1024,
  historyEvents: 25_000,
  inlineMapConcurrency: 40,
} as const;

/** What one execution (the build, or one child of a map run) used of those limits. */
export interface ExecutionUsage {
  /** Largest state input/output seen, in bytes of JSON. */
  largestPayload: { bytes: number; state: string };
  /**
   * History events AWS would record: every local event, plus three per Task attempt
   * (Scheduled, Started, Succeeded or Failed), which the local engine does not log.
   */
  historyEvents: number;
}

/** A Distributed Map state's run: its items and the busiest of its child executions. */
export interface MapRunUsage {
  items: number;
  childExecutions: number;
  maxConcurrent: number;
  /** The largest history and payload of any one child execution. */
  largestChild: ExecutionUsage;
}

export interface LocalExecution {
  executionArn: string;
  status: 'SUCCEEDED' | 'FAILED';
  output?: unknown;
  error?: { name: string; cause: string };
  /** Largest state input/output of the build and of every child execution. */
  largestPayload: { bytes: number; state: string };
  /** History events of the build's own execution (children have their own histories). */
  historyEvents: number;
  /** Distributed Map runs, by state name. */
  mapRuns: Record<string, MapRunUsage>;
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
  /** A Distributed Map's ItemReader: the JSON object at bucket/key (locally, in the store). */
  readItems?: (bucket: string, key: string) => Promise<unknown>;
}

type States = Record<string, Record<string, unknown>>;

/** `$`, `$.a.b` on the state input, `$$.a.b` on the context object; nothing fancier. */
function pathValue(path: string, input: Json, context: Json): Json {
  const [root, rest] = path.startsWith('$$') ? [context, path.slice(2)] : [input, path.slice(1)];
  if (rest !== '' && !/^(\.[A-Za-z0-9_]+)+$/.test(rest))
    throw new Error(`running the map run locally: unsupported path ${path}`);
  let v: Json = root;
  for (const part of rest.split('.').slice(1)) {
    v = v && typeof v === 'object' && !Array.isArray(v) ? (v[part] ?? null) : null;
  }
  return v;
}

/** A payload template (ItemSelector, ItemReader Parameters) applied to an input. */
function applyTemplate(template: Json, input: Json, context: Json): Json {
  if (!template || typeof template !== 'object' || Array.isArray(template)) return template;
  return Object.fromEntries(
    Object.entries(template).map(([k, v]) =>
      k.endsWith('.$')
        ? [k.slice(0, -2), pathValue(String(v), input, context)]
        : [k, applyTemplate(v, input, context)],
    ),
  );
}

class UsageMeter implements ExecutionUsage {
  largestPayload = { bytes: 0, state: '' };
  historyEvents = 0;
  retries = 0;
  add(event: ExecutionEvent): void {
    this.historyEvents++;
    if (event.type === 'StateRetried') {
      this.retries++;
      this.historyEvents += 3;
    }
    if (!('state' in event)) return;
    if (event.type === 'StateEntered' && event.state.type === 'Task') this.historyEvents += 3;
    for (const payload of [event.state.input, event.state.output]) {
      if (payload === undefined) continue;
      const bytes = Buffer.byteLength(JSON.stringify(payload));
      if (bytes > this.largestPayload.bytes)
        this.largestPayload = { bytes, state: event.state.name };
    }
  }
}

class MapRunFailedError extends Error {
  override name = 'States.ExceedToleratedFailureThreshold';
}

export async function runLocalExecution(
  input: unknown,
  invoke: LocalInvoke,
  options: LocalRunOptions,
): Promise<LocalExecution> {
  provideWithResolvers();
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
  const executionArn = `${LOCAL_STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${options.executionName}`;
  const meter = new UsageMeter();
  const mapRuns: Record<string, MapRunUsage> = {};
  const overrides = {
    taskResourceLocalHandlers: taskResourceLocalHandlers as never,
    retryIntervalOverrides,
  };
  const resolved = resolvedDefinition(raw) as unknown as { States: States };

  // Each DISTRIBUTED Map becomes a Task (same ResultPath, Catch, Next) whose local handler
  // is the map run: read the items, one child execution per item, MaxConcurrency at once.
  for (const [name, state] of Object.entries(resolved.States)) {
    const processor = state.ItemProcessor as
      | { ProcessorConfig?: { Mode?: string }; StartAt: string; States: States }
      | undefined;
    if (processor?.ProcessorConfig?.Mode !== 'DISTRIBUTED') continue;
    const { ItemReader, ItemSelector, MaxConcurrency, ItemProcessor, Type, Comment, ...kept } =
      state as Record<string, Json>;
    resolved.States[name] = { ...kept, Type: 'Task', Resource: localFunctionArn(`MapRun${name}`) };
    const child = new StateMachine(
      { StartAt: processor.StartAt, States: processor.States } as unknown as StateMachineDefinition,
      { validationOptions: { noValidate: true } },
    );
    taskResourceLocalHandlers[name] = async (mapInput) => {
      const context = {
        Execution: { Id: executionArn, Name: options.executionName, Input: input as Json },
      };
      const reader = applyTemplate(
        ((ItemReader as { Parameters?: Json })?.Parameters ?? {}) as Json,
        mapInput as Json,
        context,
      ) as { Bucket?: string; Key?: string };
      if (!options.readItems || !reader.Bucket || !reader.Key)
        throw new Error(`running map run ${name} locally: no ItemReader object to read`);
      const items = await options.readItems(reader.Bucket, reader.Key);
      if (!Array.isArray(items))
        throw new Error(`running map run ${name} locally: ${reader.Key} is not a JSON array`);
      const usage: MapRunUsage = {
        items: items.length,
        childExecutions: 0,
        maxConcurrent: 0,
        largestChild: { largestPayload: { bytes: 0, state: '' }, historyEvents: 0 },
      };
      mapRuns[name] = usage;
      let running = 0;
      let failed: { index: number; error: string; cause: string } | undefined;
      await mapSettled(items as Json[], Number(MaxConcurrency) || 1, async (item, index) => {
        if (failed) return; // a failed child stops the run (tolerated failures: 0)
        const childName = `${options.executionName}-${index}`;
        const childArn = `${LOCAL_STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}/${name}:${childName}`;
        const selected = ItemSelector
          ? applyTemplate(ItemSelector, mapInput as Json, {
              ...context,
              Map: { Item: { Index: index, Value: item } },
            })
          : item;
        usage.childExecutions++;
        usage.maxConcurrent = Math.max(usage.maxConcurrent, ++running);
        const childMeter = new UsageMeter();
        const run = child.run(selected, {
          overrides,
          context: {
            Execution: {
              Id: childArn,
              Name: childName,
              Input: selected,
              StartTime: new Date().toISOString(),
            },
            StateMachine: { Id: LOCAL_STATE_MACHINE_ARN, Name: 'catalog-build' },
          },
        });
        const watching = (async () => {
          for await (const event of run.eventLogs) {
            options.onEvent?.(event);
            childMeter.add(event);
          }
        })();
        try {
          await run.result;
        } catch (err) {
          const e = (err as { cause?: { name?: string; message?: string } }).cause ?? {};
          failed ??= { index, error: e.name ?? 'Error', cause: e.message ?? String(err) };
        } finally {
          await watching.catch(() => {});
          running--;
          meter.retries += childMeter.retries;
          if (childMeter.historyEvents > usage.largestChild.historyEvents)
            usage.largestChild.historyEvents = childMeter.historyEvents;
          if (childMeter.largestPayload.bytes > usage.largestChild.largestPayload.bytes)
            usage.largestChild.largestPayload = childMeter.largestPayload;
        }
      });
      if (failed) {
        throw new MapRunFailedError(
          `running map run ${name}: child execution of item ${failed.index} failed with ${failed.error}: ${failed.cause}`,
        );
      }
      return null;
    };
  }

  const machine = new StateMachine(resolved as unknown as StateMachineDefinition, {
    validationOptions: { checkArn: true, checkPaths: true },
  });
  const execution = machine.run(input as Json, {
    overrides,
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
  const watching = (async () => {
    for await (const event of execution.eventLogs) {
      options.onEvent?.(event);
      meter.add(event);
    }
  })();
  const usage = () => {
    let largestPayload = meter.largestPayload;
    for (const run of Object.values(mapRuns))
      if (run.largestChild.largestPayload.bytes > largestPayload.bytes)
        largestPayload = run.largestChild.largestPayload;
    return {
      largestPayload,
      historyEvents: meter.historyEvents,
      mapRuns,
      invocations,
      retries: meter.retries,
    };
  };
  try {
    const output = await execution.result;
    await watching;
    return { executionArn, status: 'SUCCEEDED', output, ...usage() };
  } catch (err) {
    await watching.catch(() => {});
    const e = err as { name?: string; message?: string; cause?: unknown };
    // ExecutionError wraps the state's error; its cause holds the ASL Error/Cause pair.
    const inner = e.cause as { name?: string; message?: string; cause?: unknown } | undefined;
    const name = inner?.name ?? e.name ?? 'Error';
    const cause =
      typeof inner?.cause === 'string' ? inner.cause : (inner?.message ?? e.message ?? '');
    return { executionArn, status: 'FAILED', error: { name, cause }, ...usage() };
  }
}

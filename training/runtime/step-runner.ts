// SPDX-License-Identifier: MIT
/**
 * @file StepRunner: owns a training-step Session and the host copy of all state. One run() = one
 * session.run = one training step: it feeds state (parameters, optimizer moments, BN buffers) by
 * name, feeds aliased inputs (IGN's frozen copy: `frozen.X` ← `X`, the same tensor under a second
 * name; docs/autodiff.md, "ORT traps"), and swaps every `X.next` output into the next step's `X`.
 *
 * API:
 *   StepRunner.create(graph, { state, aliases?, session? }) → Promise<StepRunner>
 *   new StepRunner(session, graphInputs, { state, aliases? })
 *   run(batchFeeds: Record<name, HostTensor>, scalars?: Record<name, number | Float32Array>)
 *     → Promise<Record<output name, number>>   every non-`.next` output with one element
 *   lastOutputs: Record<name, HostTensor>       all non-`.next` outputs of the last run
 *   state() → Record<input name, Float32Array>  current state (arrays are replaced, never mutated)
 *   load(state)                                 copy values in (names and lengths must match)
 *   endProfiling()                             flush ORT's profile (session.profilePrefix)
 *   release()
 */
import { numel, shapeStr } from '../onnx/ir.ts';
import type { Graph, Value } from '../onnx/ir.ts';
import { serialize } from '../onnx/serialize.ts';
import { NEXT_SUFFIX, nextName } from '../nn/next.ts';
import { createSession } from './ort.ts';
import type { HostTensor, Session, SessionOptions } from './ort.ts';

export interface StepRunnerOptions {
  /**
   * Initial value of every state input (each graph input with an `X.next` output), by input name.
   * Graph inputs given here without a `.next` output are held constant and fed every step.
   */
  state: Readonly<Record<string, Float32Array>> | ReadonlyMap<string, Float32Array>;
  /** inputName → state name fed under it (e.g. `frozen.enc.0.weight` → `enc.0.weight`). */
  aliases?: Readonly<Record<string, string>>;
}

type InputSpec = Pick<Value, 'name' | 'dtype' | 'shape'>;

export class StepRunner {
  private readonly inputs: Map<string, InputSpec>;
  /** Inputs whose `.next` output replaces them after every step. */
  private readonly swapped: string[];
  private readonly aliases: [string, string][];
  private current = new Map<string, HostTensor>();
  lastOutputs: Record<string, HostTensor> = {};

  static async create(graph: Graph, options: StepRunnerOptions & { session?: SessionOptions }): Promise<StepRunner> {
    // Memory patterns off unless asked for: the IGN step at batch 256 peaks at ~900 MiB without them
    // and ~1,300 MiB with them, at the same speed (bench:train:profile --mem-pattern).
    const memPattern = options.session?.memPattern ?? false;
    const session = await createSession(serialize(graph), { ...options.session, memPattern });
    return new StepRunner(session, graph.inputs, options);
  }

  constructor(
    private readonly session: Session,
    graphInputs: readonly InputSpec[],
    options: StepRunnerOptions,
  ) {
    this.inputs = new Map(graphInputs.map((v) => [v.name, v]));
    const outputs = new Set(session.outputNames);
    this.swapped = graphInputs.map((v) => v.name).filter((n) => outputs.has(nextName(n)));
    for (const out of outputs) {
      if (out.endsWith(NEXT_SUFFIX) && !this.inputs.has(out.slice(0, -NEXT_SUFFIX.length))) {
        throw new Error(`output ${out} has no matching graph input`);
      }
    }
    this.aliases = Object.entries(options.aliases ?? {});
    for (const [alias] of this.aliases) {
      if (!this.inputs.has(alias)) throw new Error(`alias ${alias} is not a graph input`);
    }
    const initial: Readonly<Record<string, Float32Array>> =
      options.state instanceof Map ? Object.fromEntries<Float32Array>(options.state) : (options.state as Record<string, Float32Array>);
    const missing = this.swapped.filter((n) => !(n in initial));
    if (missing.length > 0) throw new Error(`no initial value for state ${missing.join(', ')}`);
    this.load(initial);
    for (const [alias, source] of this.aliases) {
      if (!this.current.has(source)) throw new Error(`alias ${alias} → ${source}: ${source} is not state`);
    }
  }

  /** Names of the held inputs (swapped and constant), in insertion order. */
  get stateInputs(): readonly string[] {
    return [...this.current.keys()];
  }

  state(): Record<string, Float32Array> {
    return Object.fromEntries([...this.current].map(([n, t]) => [n, t.data as Float32Array]));
  }

  load(state: Readonly<Record<string, Float32Array>>): void {
    const next = new Map(this.current);
    for (const [name, data] of Object.entries(state)) {
      if (this.aliases.some(([alias]) => alias === name)) throw new Error(`${name} is an alias; load its source`);
      next.set(name, this.tensor(name, Float32Array.from(data)));
    }
    this.current = next;
  }

  async run(
    batchFeeds: Readonly<Record<string, HostTensor>>,
    scalars: Readonly<Record<string, number | Float32Array>> = {},
  ): Promise<Record<string, number>> {
    const feeds: Record<string, HostTensor> = { ...batchFeeds };
    for (const [name, s] of Object.entries(scalars)) {
      feeds[name] = this.tensor(name, typeof s === 'number' ? Float32Array.of(s) : s);
    }
    for (const [name, t] of this.current) feeds[name] = t;
    for (const [alias, source] of this.aliases) feeds[alias] = this.current.get(source)!;
    const absent = [...this.inputs.keys()].filter((n) => !(n in feeds));
    if (absent.length > 0) throw new Error(`step is missing inputs: ${absent.join(', ')}`);
    const result = await this.session.run(feeds);
    return this.absorb(result);
  }

  endProfiling(): void {
    this.session.endProfiling();
  }

  release(): Promise<void> {
    return this.session.release();
  }

  /** Swap `.next` outputs into the state; return one-element outputs as numbers. */
  private absorb(result: Record<string, HostTensor>): Record<string, number> {
    const next = new Map(this.current);
    for (const name of this.swapped) {
      const t = result[nextName(name)];
      if (!t) throw new Error(`session returned no ${nextName(name)}`);
      next.set(name, this.tensor(name, t.data as Float32Array));
    }
    this.current = next;
    this.lastOutputs = {};
    const numbers: Record<string, number> = {};
    for (const [name, t] of Object.entries(result)) {
      if (name.endsWith(NEXT_SUFFIX)) continue;
      this.lastOutputs[name] = t;
      if (t.data.length === 1) numbers[name] = Number(t.data[0]);
    }
    return numbers;
  }

  private tensor(name: string, data: Float32Array): HostTensor {
    const spec = this.inputs.get(name);
    if (!spec) throw new Error(`${name} is not a graph input`);
    if (data.length !== numel(spec.shape)) {
      throw new Error(`${name}: ${data.length} values do not fill ${shapeStr(spec.shape)}`);
    }
    return { dtype: spec.dtype, shape: spec.shape, data };
  }
}

import { context, propagation } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  InMemorySpanExporter,
  ParentBasedSampler,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace'
import { BridgeTracing, type TracingOptions } from '../../src/telemetry/bridge-tracing.ts'

/** The topics and group of the recorded spans. */
export const RECORDED: TracingOptions = { inputTopic: 'in', resultTopic: 'out', consumerGroup: 'g' }

/** Spans recorded in memory by a real OpenTelemetry SDK, and the {@link BridgeTracing} that makes them. */
export interface SpanRecorder {
  tracing: BridgeTracing
  /** The ended spans, in the order they ended. */
  ended(): ReadableSpan[]
  /** The ended spans named `name`. */
  named(name: string): ReadableSpan[]
}

/**
 * A recorder for unit tests: the SDK's tracer provider with an in-memory exporter and the sampler
 * `sampler` (`on`: parent-based, always on, the SDK's default; `off`: never), with the W3C propagator
 * and Node's AsyncLocalStorage context manager registered as the Node SDK would (once per test file).
 */
export function recordSpans(sampler: 'on' | 'off' = 'on'): SpanRecorder {
  propagation.setGlobalPropagator(new W3CTraceContextPropagator())
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  const exporter = new InMemorySpanExporter()
  const provider = new TracerProvider({
    sampler:
      sampler === 'on' ? new ParentBasedSampler({ root: new AlwaysOnSampler() }) : new AlwaysOffSampler(),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  })
  const ended = () => exporter.getFinishedSpans()
  return {
    tracing: new BridgeTracing(provider.getTracer('test'), RECORDED),
    ended,
    named: (name) => ended().filter((s) => s.name === name),
  }
}

import type { Metrics } from './metrics.ts'

/** A running bridge. */
export interface Bridge {
  /** Bound ports: the public webhook port and the operations (metrics, health) port. */
  readonly ports: { http: number; metrics: number }
  readonly metrics: Metrics
  /**
   * Resolves when a component stopped for good (a consumer crash kafkajs does not recover from, a
   * publish that cannot go on): the bridge is then not live (`/healthz` 503) and is stopping; the
   * caller ends the process once {@link stop} resolves. Never rejects; pending while all is well.
   */
  readonly crashed: Promise<ComponentCrash>
  /**
   * Shuts down in data-flow order: not ready, stop fetching, flush the batcher, wait for jobs and
   * sends up to the grace period, commit, disconnect, close servers. Idempotent; never throws.
   */
  stop(): Promise<void>
}

/** A component that stopped for good, and why. */
export interface ComponentCrash {
  /** `consumer`, `job log reader`, `job notifications reader`, `outcome publisher`. */
  component: string
  error: unknown
}

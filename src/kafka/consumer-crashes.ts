import type { Consumer } from 'kafkajs'
import type { Logger } from '../logging.ts'
import { isBrokerHiccup } from './kafka-errors.ts'

/**
 * kafkajs' consumer option deciding whether a crashed consumer is started again (`retry.restartOnFailure`,
 * asked after a retriable crash): only when the crash was a broker hiccup (src/kafka/kafka-errors.ts),
 * which passes once the broker is back. Anything else (an error from the pipeline or from kafkajs'
 * own parsing, retried to exhaustion) would crash again on the same record: no restart, so the crash
 * reaches `onFatal` instead of looping forever.
 */
export const RESTART_ONLY_AFTER_HICCUPS = {
  restartOnFailure: async (err: Error): Promise<boolean> => isBrokerHiccup(err),
}

/**
 * Sees a consumer's crashes (kafkajs' `consumer.crash` event): one that kafkajs restarts is logged and
 * leaves the consumer not ready until it rejoins; one it does not restart (`restart: false`, e.g. a
 * compression codec it lacks, or a crash {@link RESTART_ONLY_AFTER_HICCUPS} refused) ends the consumer
 * for good and goes to `onFatal`, unless the consumer is stopping anyway.
 * @param onCrash told of every crash (the consumer's not-ready state)
 */
export function watchCrashes(
  consumer: Consumer,
  deps: { logger: Logger; onFatal: (err: unknown) => void; isStopping: () => boolean },
  onCrash: (err: Error) => void,
): void {
  consumer.on(consumer.events.CRASH, (event) => {
    const { error, restart } = event.payload
    onCrash(error)
    if (restart) deps.logger.warn({ err: error }, 'consumer crashed; kafkajs starts it again')
    else if (deps.isStopping()) deps.logger.warn({ err: error }, 'consumer crashed while stopping')
    else deps.onFatal(error)
  })
}

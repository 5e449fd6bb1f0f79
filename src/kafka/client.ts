import { Kafka, logLevel } from 'kafkajs'
import type { Logger } from '../logging.ts'

/**
 * The one kafkajs instance of the process. kafkajs types stay inside src/kafka/, so a move to another
 * client touches this folder only. kafkajs logs are forwarded to pino under `component: "kafkajs"`.
 */
export function createKafka(
  options: { brokers: string[]; clientId: string },
  deps: { logger: Logger },
): Kafka {
  const log = deps.logger.child({ component: 'kafkajs' })
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    logLevel: logLevel.INFO,
    retry: { initialRetryTime: 300, retries: 8 },
    logCreator:
      () =>
      ({ level, log: entry }) => {
        const { message, timestamp: _t, logger: _l, ...rest } = entry
        if (level === logLevel.ERROR) log.error(rest, message)
        else if (level === logLevel.WARN) log.warn(rest, message)
        else if (level === logLevel.INFO) log.info(rest, message)
        else log.debug(rest, message)
      },
  })
}

export type { Kafka }

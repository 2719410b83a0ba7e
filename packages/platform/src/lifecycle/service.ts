import type { Logger } from '../logging/logger.js';

export interface Service {
  /** Stops accepting work, finishes what is in flight (bounded), releases the rest. */
  stop(): Promise<void>;
}

/**
 * Runs until SIGTERM/SIGINT, then stops the service once. A second signal exits at once,
 * for an operator who does not want to wait.
 */
export function startService(service: Service, logger: Logger): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'shutting down');
    service.stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

import pg from 'pg';
import type { Store } from '../store/store.js';
import { type JobQueueOptions, SqlJobQueue } from './sql-job-queue.js';

type Lockable = { forUpdate(): { skipLocked(): unknown } };

/**
 * Concurrent workers skip each other's rows with FOR UPDATE SKIP LOCKED, and an insert
 * trigger's NOTIFY wakes idle workers in every process (LISTEN on a dedicated connection).
 */
export class PostgresJobQueue extends SqlJobQueue {
  private listener: pg.Client | undefined;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    options: JobQueueOptions = {},
  ) {
    super(store, options);
  }

  protected lockForClaim<Q>(query: Q): Q {
    return (query as unknown as Lockable).forUpdate().skipLocked() as Q;
  }

  override onWake(listener: () => void): () => void {
    if (!this.listener && !this.closed) void this.listen();
    return super.onWake(listener);
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.store.connectionString });
    this.listener = client;
    client.on('notification', () => this.notifyLocal());
    client.on('error', () => this.scheduleReconnect(client));
    client.on('end', () => this.scheduleReconnect(client));
    try {
      await client.connect();
      await client.query('LISTEN calmhub_jobs');
      // Jobs may have arrived while we were not listening.
      this.notifyLocal();
    } catch {
      this.scheduleReconnect(client);
    }
  }

  private scheduleReconnect(client: pg.Client): void {
    if (this.closed || this.listener !== client) return;
    this.listener = undefined;
    client.end().catch(() => {});
    this.reconnectTimer = setTimeout(() => void this.listen(), 1000);
    this.reconnectTimer.unref();
  }

  override async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const client = this.listener;
    this.listener = undefined;
    await client?.end().catch(() => {});
    await super.close();
  }
}

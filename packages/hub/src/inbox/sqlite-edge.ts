import type { SqliteStatement } from '@calmhub/platform';
import type { HubDeps } from '../app/deps.js';
import {
  check,
  type Delivery,
  INTEGRATION_SQL,
  type IngestResult,
  type IntegrationRow,
  landedDelivery,
  webhookStateUpdates,
} from './check-delivery.js';
import { fingerprint, IN_INBOX } from './dedupe-index.js';
import { edgePressure, HEAVY_BURST_PER_SECOND } from './edge-pressure.js';
import { closeLanding, keyOf, type LandingState, landingFor, moveJob } from './landing.js';
import { FrameWriter } from './landing-journal.js';

type Deps = Pick<HubDeps, 'db' | 'clock' | 'secrets' | 'queue' | 'config' | 'store' | 'logger'>;

/** Where a delivery's key was found: a landed record (not yet moved), or the inbox. */
type Found = { id: string; landed: boolean };

/**
 * The webhook edge on SQLite: a batch of deliveries checked, appended to the landing journal as
 * one frame (see landing.ts), and answered once written. This is the path every delivery of a
 * burst takes, so it does no more than that: one read of each integration the batch names, one
 * write of the frame, and a read only for a key the dedupe index may hold (a duplicate, or one
 * of its rare false matches). No SQLite transaction: the integration is read by itself, and the
 * move job and "last event received" (once a second) are single statements.
 */
export class SqliteEdge {
  private statements:
    | { integration: SqliteStatement; inboxId: SqliteStatement; countInbox: SqliteStatement }
    | undefined;
  private readonly writer = new FrameWriter();

  private constructor(
    private readonly deps: Deps,
    private readonly state: LandingState,
  ) {}

  private static readonly edges = new WeakMap<object, SqliteEdge | Promise<SqliteEdge>>();

  /** One per store (a hub process has one; tests start several hubs in one process). */
  static of(deps: Deps): SqliteEdge | Promise<SqliteEdge> {
    const known = SqliteEdge.edges.get(deps.db);
    if (known) return known;
    const state = landingFor(deps);
    const make = (read: LandingState) => {
      const edge = new SqliteEdge(deps, read);
      SqliteEdge.edges.set(deps.db, edge);
      return edge;
    };
    if (!(state instanceof Promise)) return make(state);
    const pending = state.then(make);
    SqliteEdge.edges.set(deps.db, pending);
    pending.catch(() => SqliteEdge.edges.delete(deps.db));
    return pending;
  }

  /** The hub stopping: the edge of this store is forgotten and its landing journal closed. */
  static async close(db: object): Promise<void> {
    SqliteEdge.edges.delete(db);
    await closeLanding(db);
  }

  /** Checks and lands deliveries as one frame; one result per delivery, in order. */
  landTogether(deliveries: Delivery[]): Promise<IngestResult[]> {
    return this.state.sqlite.direct((prepare) => this.land(prepare, deliveries));
  }

  private land(prepare: (text: string) => SqliteStatement, deliveries: Delivery[]): IngestResult[] {
    this.statements ??= {
      integration: prepare(INTEGRATION_SQL),
      inboxId: prepare('select id from hub_webhook_inbox where integration_id = ? and dedupe_key = ?'),
      countInbox: prepare('update hub_webhook_inbox set duplicates = duplicates + 1 where id = ?'),
    };
    const { deps, state, writer, statements } = this;
    const now = deps.clock.now();
    const results: IngestResult[] = [];
    // Nearly always one integration per batch: the last one read is kept for the next delivery.
    let integrationId = '';
    let integration: IntegrationRow | undefined;
    const received = new Set<IntegrationRow>();
    const selfTested: IntegrationRow[] = [];
    const frameAt = state.journal.size;
    writer.reset();
    for (const delivery of deliveries) {
      const id = delivery.integrationId.toLowerCase();
      if (id !== integrationId) {
        integrationId = id;
        integration = statements.integration.get(id) as IntegrationRow | undefined;
      }
      const checked = check(deps.secrets, delivery, integration);
      if ('result' in checked) {
        results.push(checked.result);
        continue;
      }
      const owner = checked.integration.id;
      const print = fingerprint(keyOf(owner, checked.dedupe));
      const places = state.index.placesOf(print);
      if (!state.index.complete || places.length > 0) {
        const found = this.find(places, owner, checked.dedupe, frameAt);
        if (found) {
          // Counted on the stored delivery: in this frame, or in the inbox at once.
          if (found.landed) writer.duplicate(found.id);
          else statements.countInbox.run(found.id);
          results.push({ outcome: 'duplicate', id: found.id });
          continue;
        }
      }
      // Added now, so that a resend later in this batch is found. Should the frame not be
      // written, later frames fill its offsets: find compares keys, so the place costs a read only.
      state.index.add(print, state.base + frameAt + writer.position);
      writer.delivery(landedDelivery(checked, now), checked.bytes);
      results.push({ outcome: 'accepted', id: checked.id });
      if (delivery.selfTest) selfTested.push(checked.integration);
      else received.add(checked.integration);
    }
    if (writer.empty) return results;
    state.journal.append(writer.frame());
    // A move job is needed unless one is waiting to start (it will take these records too).
    const writes: Array<{ sql: string; parameters: readonly unknown[] }> = webhookStateUpdates(
      deps.db,
      received,
      selfTested,
      now,
    );
    const enqueue = !state.moveQueued;
    if (enqueue) {
      const heavyBurst = edgePressure(deps.db).rate.current() > HEAVY_BURST_PER_SECOND;
      writes.push(deps.queue.enqueueStatement([moveJob(now, heavyBurst)]));
    }
    // Each by itself, after the frame: the deliveries are stored and answered whatever these do.
    // A move job not enqueued is enqueued by the next batch, or at start.
    try {
      for (const query of writes) prepare(query.sql).run(query.parameters);
      if (enqueue) {
        state.moveQueued = true;
        deps.queue.enqueued();
      }
    } catch (error) {
      deps.logger.warn({ err: error }, 'webhook edge: a write after storing deliveries failed');
    }
    return results;
  }

  /**
   * The delivery stored under this key: landed (in this frame, or in the journal and not yet
   * moved), or in the inbox.
   */
  private find(places: number[], owner: string, dedupe: string, frameAt: number): Found | undefined {
    const { state, writer } = this;
    let inInbox = !state.index.complete;
    for (const place of places) {
      const offset = place - state.base;
      if (place === IN_INBOX || offset < state.moved) {
        inInbox = true;
        continue;
      }
      const record = offset >= frameAt ? writer.recordAt(offset - frameAt) : state.journal.recordAt(offset);
      if (record?.kind === 'delivery' && record.integrationId === owner && record.dedupeKey === dedupe)
        return { id: record.id, landed: true };
    }
    if (!inInbox) return undefined;
    const stored = this.statements?.inboxId.get(owner, dedupe) as { id: string } | undefined;
    return stored ? { id: stored.id, landed: false } : undefined;
  }
}

import { multiRowInsertSql, type SqliteAccess, type SqliteStatement } from '@calmhub/platform';
import type { HubDeps } from '../app/deps.js';
import {
  check,
  type Delivery,
  INTEGRATION_SQL,
  type IngestResult,
  type IntegrationRow,
  LANDING_COLUMNS,
  pushLandingValues,
  webhookStateUpdates,
} from './check-delivery.js';
import { edgePressure, HEAVY_BURST_PER_SECOND } from './edge-pressure.js';
import { keyOf, type Landed, type LandingState, landingFor, moveJob } from './landing.js';

type Deps = Pick<HubDeps, 'db' | 'clock' | 'secrets' | 'queue'>;

/** The edge's statements, prepared on its first transaction and held: no lookup by SQL text per batch. */
interface Statements {
  integration: SqliteStatement;
  inboxId: SqliteStatement;
  countLandedDuplicate: SqliteStatement;
  countInboxDuplicate: SqliteStatement;
  /** The landing insert of n rows, at index n. */
  land: SqliteStatement[];
}

function prepareStatements(prepare: (text: string) => SqliteStatement): Statements {
  return {
    integration: prepare(INTEGRATION_SQL),
    inboxId: prepare('select id from hub_webhook_inbox where integration_id = ? and dedupe_key = ?'),
    countLandedDuplicate: prepare('update hub_webhook_landing set duplicates = duplicates + 1 where seq = ?'),
    countInboxDuplicate: prepare(
      'update hub_webhook_inbox set duplicates = duplicates + 1 where integration_id = ? and dedupe_key = ?',
    ),
    land: [],
  };
}

/** A batch's answers, and what to do once its transaction has committed. */
interface Landing {
  results: IngestResult[];
  committed: () => void;
}

/**
 * The webhook edge on SQLite: a batch of deliveries checked and landed (see landing.ts) in one
 * synchronous transaction, with statements held from the first batch. This is the path every
 * delivery of a burst takes, so it does no more than that: one read of each integration the batch
 * names, one insert of all its new rows, and a read of the inbox's dedupe index only for a key the
 * dedupe filter may hold (a duplicate, or one of its rare false positives).
 */
export class SqliteEdge {
  private statements: Statements | undefined;

  private constructor(
    private readonly deps: Deps,
    private readonly sqlite: SqliteAccess,
    private readonly state: LandingState,
  ) {}

  private static readonly edges = new WeakMap<object, SqliteEdge | Promise<SqliteEdge>>();

  /** One per store (a hub process has one; tests start several hubs in one process). */
  static of(deps: Deps, sqlite: SqliteAccess): SqliteEdge | Promise<SqliteEdge> {
    const known = SqliteEdge.edges.get(deps.db);
    if (known) return known;
    const state = landingFor(deps.db);
    const make = (read: LandingState) => {
      const edge = new SqliteEdge(deps, sqlite, read);
      SqliteEdge.edges.set(deps.db, edge);
      return edge;
    };
    if (!(state instanceof Promise)) return make(state);
    const pending = state.then(make);
    SqliteEdge.edges.set(deps.db, pending);
    pending.catch(() => SqliteEdge.edges.delete(deps.db));
    return pending;
  }

  /** Checks and lands deliveries in one transaction; one result per delivery, in order. */
  landTogether(deliveries: Delivery[]): Promise<IngestResult[]> {
    const heavyBurst = edgePressure(this.deps.db).rate.current() > HEAVY_BURST_PER_SECOND;
    return this.sqlite
      .transaction((prepare) => this.land(prepare, deliveries, heavyBurst))
      .then(({ results, committed }) => {
        committed();
        return results;
      });
  }

  private land(
    prepare: (text: string) => SqliteStatement,
    deliveries: Delivery[],
    heavyBurst: boolean,
  ): Landing {
    const statements = this.statements ?? prepareStatements(prepare);
    this.statements = statements;
    const { deps, state } = this;
    const now = deps.clock.now();
    const results: IngestResult[] = [];
    const values: unknown[] = [];
    // The rows landed by this batch, as key and row: known to the edge once committed.
    const fresh: Array<[string, Landed]> = [];
    const integrations = new Map<string, IntegrationRow | undefined>();
    const received = new Set<IntegrationRow>();
    const selfTested: IntegrationRow[] = [];
    let seq = state.nextSeq;
    for (const delivery of deliveries) {
      const integrationId = delivery.integrationId.toLowerCase();
      let integration = integrations.get(integrationId);
      if (integration === undefined && !integrations.has(integrationId)) {
        integration = statements.integration.get(integrationId) as IntegrationRow | undefined;
        integrations.set(integrationId, integration);
      }
      const checked = check(deps.secrets, delivery, integration);
      if ('result' in checked) {
        results.push(checked.result);
        continue;
      }
      const { id, dedupe } = checked;
      const owner = checked.integration.id;
      const key = keyOf(owner, dedupe);
      // The filter holds every key landed (this batch's too) or in the inbox: its "no", nearly
      // every delivery's answer, needs no lookup.
      if (state.filter.mightHave(key)) {
        const duplicate = this.duplicateOf(statements, fresh, key, owner, dedupe);
        if (duplicate) {
          results.push({ outcome: 'duplicate', id: duplicate });
          continue;
        }
      }
      // Added now, not at commit, so a resend later in this batch is found; should the
      // transaction roll back, the key stays a "maybe", which costs a lookup, never a wrong answer.
      state.filter.add(key);
      fresh.push([key, { id, seq }]);
      pushLandingValues(values, seq++, checked, now);
      results.push({ outcome: 'accepted', id });
      if (delivery.selfTest) selfTested.push(checked.integration);
      else received.add(checked.integration);
    }
    if (fresh.length > 0) {
      let insert = statements.land[fresh.length];
      if (!insert) {
        insert = prepare(
          multiRowInsertSql('sqlite', 'hub_webhook_landing', LANDING_COLUMNS, fresh.length, ''),
        );
        statements.land[fresh.length] = insert;
      }
      insert.run(values);
    }
    // A move job is needed unless one is waiting to start (it will take these rows too).
    const enqueue = fresh.length > 0 && !state.moveQueued;
    if (enqueue) {
      const job = deps.queue.enqueueStatement([moveJob(now, heavyBurst)]);
      prepare(job.sql).run(job.parameters);
    }
    for (const query of webhookStateUpdates(deps.db, received, selfTested, now))
      prepare(query.sql).run(query.parameters);
    return {
      results,
      committed: () => {
        for (const [key, landed] of fresh) state.keys.set(key, landed);
        state.nextSeq = seq;
        if (enqueue) {
          state.moveQueued = true;
          deps.queue.enqueued();
        }
      },
    };
  }

  /**
   * The id a delivery duplicates, counted on the stored one: landed earlier in this batch, landed
   * and not yet moved, or in the inbox.
   */
  private duplicateOf(
    statements: Statements,
    fresh: Array<[string, Landed]>,
    key: string,
    owner: string,
    dedupe: string,
  ): string | undefined {
    const inBatch = fresh.find(([landedKey]) => landedKey === key)?.[1];
    const landed = inBatch ?? this.state.keys.get(key);
    if (landed) {
      // Moved meanwhile (the move committed, its keys not yet forgotten): counted in the inbox.
      if (statements.countLandedDuplicate.run(landed.seq).changes === 0)
        statements.countInboxDuplicate.run(owner, dedupe);
      return landed.id;
    }
    const stored = statements.inboxId.get(owner, dedupe) as { id: string } | undefined;
    if (stored) statements.countInboxDuplicate.run(owner, dedupe);
    return stored?.id;
  }
}

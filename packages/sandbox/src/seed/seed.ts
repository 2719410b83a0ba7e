import { writeJson } from '@calmhub/platform';
import { nextProjectNumber } from '../projects/service.js';
import { seedDemoTeams } from '../projects/teams.js';
import { createRandom, type Random } from '../shared/ids.js';
import type { SandboxDb, SandboxExecutor, TaskTable } from '../store/tables.js';
import { STANDARD_WORKSTREAMS } from '../tasks/catalog.js';
import { seedDemoRelations } from '../tasks/relations.js';
import { setTaskTags } from '../tasks/tags.js';
import { demoTransportObjects, setTransportObjects } from '../transports/objects.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Seeds are pinned to a fixed clock so the same command always yields the same tenant. */
const SEED_EPOCH = Date.parse('2026-01-05T08:00:00.000Z');

/** Data every tenant has: the standard workstreams. Idempotent. */
export async function ensureStandardData(db: SandboxExecutor): Promise<void> {
  for (const workstream of STANDARD_WORKSTREAMS) {
    const existing = await db
      .selectFrom('sandbox_workstreams')
      .select('id')
      .where('id', '=', workstream.id)
      .executeTakeFirst();
    if (!existing)
      await db
        .insertInto('sandbox_workstreams')
        .values({ ...workstream, is_custom: 0 })
        .execute();
  }
}

async function insertChunked<T>(
  rows: T[],
  columns: number,
  insert: (chunk: T[]) => Promise<unknown>,
): Promise<void> {
  // Both engines cap bound parameters (SQLite 32766, PostgreSQL 65535).
  const size = Math.max(1, Math.floor(30_000 / columns));
  for (let i = 0; i < rows.length; i += size) {
    await insert(rows.slice(i, i + size));
    await yieldToEventLoop();
  }
}

/**
 * Lets pending I/O (other requests, health checks) run. better-sqlite3 answers synchronously, so a
 * long seed that only awaits its queries would otherwise hold the event loop until it ends.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Rows generated this many at a time, each batch inserted before the next is built. */
const SEED_BATCH = 2000;

function task(
  random: Random,
  base: Partial<TaskTable> &
    Pick<TaskTable, 'id' | 'project_id' | 'title' | 'type' | 'status' | 'created_at'>,
): TaskTable {
  return {
    sub_status: null,
    external_id: null,
    start_date: null,
    due_date: null,
    priority_id: random.pick([10, 20, 30, 30, 40]),
    assignee_id: null,
    approval_state: null,
    parent_id: null,
    assigned_role_id: null,
    scope_id: null,
    story_points: null,
    effort: null,
    obsolete: 0,
    workstream: null,
    deliverable_id: null,
    involved_parties: null,
    timebox_id: null,
    description: null,
    last_changed_at: base.created_at,
    ...base,
  };
}

const PEOPLE = [
  'anna.schmidt@example.com',
  'li.wei@example.com',
  'marco.rossi@example.com',
  'priya.nair@example.com',
  'john.doe@example.com',
];

/** What a user story looks like in each feature status. */
const STORY_STATUS: Record<string, readonly string[]> = {
  CREATED: ['CIPUSOPEN', 'CIPUSOPEN'],
  NOT_PLANNED: ['CIPUSNO'],
  IN_REALIZATION: ['CIPUSINP', 'CIPUSOPEN', 'CIPUSCLOSE'],
  IN_TESTING: ['CIPUSCLOSE', 'CIPUSREV', 'CIPUSINP'],
  SUCCESSFULLY_TESTED: ['CIPUSCLOSE'],
  APPROVED_FOR_DEPLOYMENT: ['CIPUSCLOSE'],
  CONFIRMED: ['CIPUSCLOSE'],
};

interface DemoFeature {
  title: string;
  status: string;
  priority: number;
  summary: string;
  stories: string[];
}

const DEMO_FEATURES: DemoFeature[] = [
  {
    title: 'Close periods',
    status: 'IN_REALIZATION',
    priority: 20,
    summary: 'Automate the monthly period close in the universal journal.',
    stories: [
      'Open and close posting periods by company code',
      'Period-end job chain for accruals',
      'Close cockpit task list',
    ],
  },
  {
    title: 'Intercompany reconciliation',
    status: 'IN_TESTING',
    priority: 10,
    summary: 'Match intercompany receivables and payables across company codes.',
    stories: [
      'Matching rules for IC open items',
      'Reconciliation report per partner',
      'Automatic elimination postings',
    ],
  },
  {
    title: 'Asset accounting migration',
    status: 'SUCCESSFULLY_TESTED',
    priority: 20,
    summary: 'Move fixed assets and their values from the legacy ledger.',
    stories: ['Load asset master data', 'Transfer accumulated depreciation'],
  },
  {
    title: 'Bank statement processing',
    status: 'APPROVED_FOR_DEPLOYMENT',
    priority: 30,
    summary: 'Import CAMT.053 statements and clear open items automatically.',
    stories: ['CAMT.053 import', 'Search strings for clearing'],
  },
  {
    title: 'Tax reporting for Germany',
    status: 'CONFIRMED',
    priority: 30,
    summary: 'Advance return for tax on sales/purchases (UStVA) via ELSTER.',
    stories: ['UStVA report variant', 'ELSTER submission'],
  },
  {
    title: 'Cash position forecast',
    status: 'CREATED',
    priority: 30,
    summary: 'A daily cash position with a 12-week liquidity forecast.',
    stories: ['Liquidity items', 'Forecast from purchase orders'],
  },
  {
    title: 'Payment approval workflow',
    status: 'CREATED',
    priority: 20,
    summary: 'Four-eyes approval of payment proposals above a threshold.',
    stories: ['Workflow scenario for payment batches'],
  },
  {
    title: 'Legacy AP archive access',
    status: 'NOT_PLANNED',
    priority: 40,
    summary: 'Read access to archived AP documents from the old system.',
    stories: ['Archive link configuration'],
  },
  {
    title: 'Group reporting data collection',
    status: 'IN_REALIZATION',
    priority: 20,
    summary: 'Collect reported financial data from non-SAP subsidiaries.',
    stories: ['Flexible upload template', 'Validation rules', 'Currency translation method'],
  },
  {
    title: 'Credit management',
    status: 'IN_TESTING',
    priority: 30,
    summary: 'Credit limits and blocked sales orders with a review queue.',
    stories: ['Credit segment setup', 'Documented credit decision'],
  },
  {
    title: 'Dunning by e-mail',
    status: 'CREATED',
    priority: 40,
    summary: 'Send dunning letters as PDF e-mails per customer preference.',
    stories: ['Output management for dunning'],
  },
  {
    title: 'Fixed asset depreciation run',
    status: 'CONFIRMED',
    priority: 20,
    summary: 'Monthly depreciation posting with error log review.',
    stories: ['Depreciation run scheduling'],
  },
];

function html(summary: string, title: string): string {
  return `<p>${summary}</p><h3>Acceptance criteria</h3><ul><li>${title} works for all company codes in scope</li><li>Authorisations are restricted to the finance roles</li></ul><p><b>Note:</b> see the <a href="https://example.com/specs/${encodeURIComponent(title)}">specification</a>.</p>`;
}

export interface SeedResult {
  projects: number;
  features: number;
  tasks: number;
  skipped: boolean;
  millis: number;
}

/** The fixed id of the demo project (`--seed demo`). */
export const DEMO_PROJECT_ID = '17a825f9-b4b5-4685-8396-59d5c80dc15c';
export const DEMO_SECOND_PROJECT_ID = 'a3d41c42-973c-46f8-87a9-72046bb4b38b';

/** A realistic small tenant: two projects, features in every status, stories under them. Idempotent. */
export async function seedDemo(db: SandboxDb): Promise<SeedResult> {
  const started = performance.now();
  const existing = await db
    .selectFrom('sandbox_projects')
    .select('id')
    .where('id', '=', DEMO_PROJECT_ID)
    .executeTakeFirst();
  if (existing)
    return { projects: 0, features: 0, tasks: 0, skipped: true, millis: performance.now() - started };
  const random = createRandom(20260105);
  let features = 0;
  let tasks = 0;
  await db.transaction().execute(async (trx) => {
    await ensureStandardData(trx);
    let clock = SEED_EPOCH;
    const tick = (ms = 37 * 60_000) => {
      clock += ms;
      return clock;
    };
    const number = await nextProjectNumber(trx);
    await trx
      .insertInto('sandbox_projects')
      .values([
        {
          id: DEMO_PROJECT_ID,
          number,
          name: 'S/4HANA Finance Transformation',
          status: 'O',
          feature_seq: DEMO_FEATURES.length,
          created_at: clock,
          modified_at: clock,
        },
        {
          id: DEMO_SECOND_PROJECT_ID,
          number: number + 1,
          name: 'SuccessFactors Rollout',
          status: 'O',
          feature_seq: 2,
          created_at: clock,
          modified_at: clock,
        },
      ])
      .execute();

    const phases = ['Prepare', 'Explore', 'Realize', 'Deploy'].map((name, i) => ({
      id: random.uuid(),
      project_id: DEMO_PROJECT_ID,
      type: 1,
      name,
      start_date: new Date(SEED_EPOCH + i * 30 * DAY).toISOString().slice(0, 10),
      end_date: new Date(SEED_EPOCH + ((i + 1) * 30 - 1) * DAY).toISOString().slice(0, 10),
      closed: i === 0 ? 1 : 0,
    }));
    const sprints = [1, 2, 3, 4].map((n) => ({
      id: random.uuid(),
      project_id: DEMO_PROJECT_ID,
      type: 2,
      name: `Sprint ${n}`,
      start_date: new Date(SEED_EPOCH + (30 + (n - 1) * 14) * DAY).toISOString().slice(0, 10),
      end_date: new Date(SEED_EPOCH + (30 + n * 14 - 1) * DAY).toISOString().slice(0, 10),
      closed: n === 1 ? 1 : 0,
    }));
    const milestone = {
      id: random.uuid(),
      project_id: DEMO_PROJECT_ID,
      type: 0,
      name: 'Go-Live',
      start_date: '2026-05-04',
      end_date: '2026-05-04',
      closed: 0,
    };
    await trx
      .insertInto('sandbox_timeboxes')
      .values([...phases, ...sprints, milestone])
      .execute();
    const realize = phases[2]?.id ?? null;
    const deliverable = {
      id: random.uuid(),
      project_id: DEMO_PROJECT_ID,
      name: 'Functional Specification',
      project_phase_id: phases[1]?.id ?? null,
      description: 'Specifications of the finance features',
      is_custom: 0,
    };
    await trx.insertInto('sandbox_deliverables').values(deliverable).execute();

    let transportNumber = 900120;
    for (const [index, demo] of DEMO_FEATURES.entries()) {
      const uuid = random.uuid();
      const created = tick();
      await trx
        .insertInto('sandbox_features')
        .values({
          uuid,
          project_id: DEMO_PROJECT_ID,
          display_id: `${number}-${index + 1}`,
          title: demo.title,
          description: html(demo.summary, demo.title),
          status_code: demo.status,
          priority_code: demo.priority,
          release_id: null,
          scope_id: null,
          responsible_id: random.pick(PEOPLE),
          workstream_id: random.pick(['WS002', 'WS003']),
          type: null,
          tags: writeJson(index % 3 === 0 ? ['finance', 'wave-1'] : ['finance']),
          created_at: created,
          modified_at: tick(5 * 60_000),
        })
        .execute();
      features++;
      if (index % 2 === 0) {
        await trx
          .insertInto('sandbox_url_references')
          .values({
            uuid: random.uuid(),
            parent_uuid: uuid,
            name: 'Specification',
            url: `https://example.com/specs/${index + 1}`,
            created_at: created,
          })
          .execute();
      }
      if (index % 3 === 1) {
        await trx
          .insertInto('sandbox_external_references')
          .values({
            id: `FIN-${100 + index}`,
            parent_uuid: uuid,
            name: 'Jira',
            url: `https://jira.example.com/browse/FIN-${100 + index}`,
            created_at: created,
          })
          .execute();
      }
      if (
        [
          'IN_REALIZATION',
          'IN_TESTING',
          'SUCCESSFULLY_TESTED',
          'APPROVED_FOR_DEPLOYMENT',
          'CONFIRMED',
        ].includes(demo.status)
      ) {
        const transportUuid = random.uuid();
        transportNumber++;
        await trx
          .insertInto('sandbox_transports')
          .values({
            uuid: transportUuid,
            transport_id: `S4DK${transportNumber}`,
            description: `${demo.title}: customizing and code`,
            owner: random.pick(PEOPLE),
            status: demo.status === 'IN_REALIZATION' ? 'modifiable' : 'released',
            source_system: 'S4D',
            target_system: demo.status === 'CONFIRMED' ? 'S4P' : 'S4Q',
            created_at: created,
            modified_at: created,
          })
          .execute();
        await trx
          .insertInto('sandbox_transport_references')
          .values({ parent_uuid: uuid, transport_uuid: transportUuid, created_at: created })
          .execute();
        await setTransportObjects(trx, transportUuid, demoTransportObjects(demo.title));
      }
      for (const title of demo.stories) {
        const id = random.uuid();
        const at = tick(11 * 60_000);
        const status = random.pick(STORY_STATUS[demo.status] ?? ['CIPUSOPEN']);
        await trx
          .insertInto('sandbox_tasks')
          .values(
            task(random, {
              id,
              project_id: DEMO_PROJECT_ID,
              title,
              type: 'CALMUS',
              status,
              created_at: at,
              last_changed_at: tick(3 * 60_000),
              assignee_id: random.pick(PEOPLE),
              story_points: random.pick([1, 2, 3, 5, 8]),
              timebox_id: status === 'CIPUSOPEN' ? null : (random.pick(sprints.slice(1)).id ?? null),
              workstream: 'WS003',
              description: `<p>As a finance user I want <i>${title.toLowerCase()}</i> so that the close runs on time.</p>`,
            }),
          )
          .execute();
        await trx
          .insertInto('sandbox_task_assignments')
          .values({ parent_uuid: uuid, task_id: id, created_at: at })
          .execute();
        // Stories carry their feature's tags (the `tags` list filter has something to find).
        await setTaskTags(trx, id, index % 3 === 0 ? ['finance', 'wave-1'] : ['finance']);
        tasks++;
        if (status === 'CIPUSINP') {
          await trx
            .insertInto('sandbox_tasks')
            .values(
              task(random, {
                id: random.uuid(),
                project_id: DEMO_PROJECT_ID,
                title: `Unit tests: ${title}`,
                type: 'CALMST',
                status: 'CIPTKOPEN',
                parent_id: id,
                created_at: tick(60_000),
              }),
            )
            .execute();
          tasks++;
        }
        if (random.next() < 0.4) {
          await trx
            .insertInto('sandbox_comments')
            .values({
              id: random.uuid(),
              task_id: id,
              text: '<p>Discussed in the design review; go ahead.</p>',
              created_by: random.pick(PEOPLE),
              created_at: tick(60_000),
              changed_at: clock,
            })
            .execute();
        }
      }
    }

    const requirements: [string, string, string, string | null][] = [
      ['Period close within three working days', 'CIPREQUINP', 'IN_REALIZATION', 'APPROVED'],
      ['Intercompany differences below 0.1 %', 'CIPREQUINP', 'TO_BE_APPROVED', 'READY_4_APPR'],
      ['Real-time cash visibility', 'CIPREQUOPEN', 'CREATED', null],
      ['Archive access for auditors', 'CIPREQUNO', 'NOT_PLANNED', 'NO_APPR_REQ'],
    ];
    for (const [title, status, subStatus, approval] of requirements) {
      await trx
        .insertInto('sandbox_tasks')
        .values(
          task(random, {
            id: random.uuid(),
            project_id: DEMO_PROJECT_ID,
            title,
            type: 'CALMREQU',
            status,
            sub_status: subStatus,
            approval_state: approval,
            created_at: tick(),
            description: `<p>${title}.</p>`,
          }),
        )
        .execute();
      tasks++;
    }
    const others: [string, string, string, string | null][] = [
      ['Posting period variant missing in QA', 'CALMDEF', 'CIPDFCTINP', 'DFC_INP'],
      ['Wrong tax code on IC invoices', 'CALMDEF', 'CIPDFCTOPEN', 'DFC_NEW'],
      ['Prepare cutover plan', 'CALMTASK', 'CIPTKINP', null],
      ['Set up finance roles', 'CALMTASK', 'CIPTKCLOSE', null],
    ];
    for (const [title, type, status, subStatus] of others) {
      await trx
        .insertInto('sandbox_tasks')
        .values(
          task(random, {
            id: random.uuid(),
            project_id: DEMO_PROJECT_ID,
            title,
            type,
            status,
            sub_status: subStatus,
            created_at: tick(),
            timebox_id: realize,
            deliverable_id: type === 'CALMTASK' ? deliverable.id : null,
          }),
        )
        .execute();
      tasks++;
    }

    for (const [index, title] of ['Employee Central data migration', 'Onboarding journeys'].entries()) {
      const uuid = random.uuid();
      await trx
        .insertInto('sandbox_features')
        .values({
          uuid,
          project_id: DEMO_SECOND_PROJECT_ID,
          display_id: `${number + 1}-${index + 1}`,
          title,
          description: `<p>${title} for all countries in wave 1.</p>`,
          status_code: index === 0 ? 'IN_REALIZATION' : 'CREATED',
          priority_code: 30,
          release_id: null,
          scope_id: null,
          responsible_id: random.pick(PEOPLE),
          workstream_id: null,
          type: null,
          tags: writeJson(['hr']),
          created_at: tick(),
          modified_at: tick(60_000),
        })
        .execute();
      features++;
      const id = random.uuid();
      await trx
        .insertInto('sandbox_tasks')
        .values(
          task(random, {
            id,
            project_id: DEMO_SECOND_PROJECT_ID,
            title: `${title}: first increment`,
            type: 'CALMUS',
            status: 'CIPUSOPEN',
            created_at: tick(),
          }),
        )
        .execute();
      await trx
        .insertInto('sandbox_task_assignments')
        .values({ parent_uuid: uuid, task_id: id, created_at: clock })
        .execute();
      tasks++;
    }

    // Story dependencies and the project teams (fixed ids; the random sequence above is untouched).
    await seedDemoRelations(trx, DEMO_PROJECT_ID, tick());
    await seedDemoTeams(trx, { finance: DEMO_PROJECT_ID, hr: DEMO_SECOND_PROJECT_ID }, tick());
  });
  return { projects: 2, features, tasks, skipped: false, millis: performance.now() - started };
}

export interface LargeSeedOptions {
  features: number;
  stories: number;
  /** Different seeds give different tenants; the project id derives from it. */
  seed?: number;
}

/**
 * A large tenant for paging and load tests: one project, `features` features and `stories`
 * user stories spread round-robin over them (each assigned through TaskAssignments). Batched
 * inserts in one transaction; idempotent per seed.
 */
export async function seedLarge(
  db: SandboxDb,
  options: LargeSeedOptions,
): Promise<SeedResult & { projectId: string }> {
  const started = performance.now();
  const random = createRandom(options.seed ?? 7);
  const projectId = random.uuid();
  const existing = await db
    .selectFrom('sandbox_projects')
    .select('id')
    .where('id', '=', projectId)
    .executeTakeFirst();
  if (existing)
    return {
      projectId,
      projects: 0,
      features: 0,
      tasks: 0,
      skipped: true,
      millis: performance.now() - started,
    };
  const statuses = [
    'CREATED',
    'IN_REALIZATION',
    'IN_TESTING',
    'SUCCESSFULLY_TESTED',
    'APPROVED_FOR_DEPLOYMENT',
    'CONFIRMED',
    'NOT_PLANNED',
  ];
  await db.transaction().execute(async (trx) => {
    await ensureStandardData(trx);
    const number = await nextProjectNumber(trx);
    await trx
      .insertInto('sandbox_projects')
      .values({
        id: projectId,
        number,
        name: `Load Test Tenant (${options.features} features)`,
        status: 'O',
        feature_seq: options.features,
        created_at: SEED_EPOCH,
        modified_at: SEED_EPOCH,
      })
      .execute();
    const featureIds: string[] = [];
    let featureRows = [];
    for (let i = 0; i < options.features; i++) {
      const uuid = random.uuid();
      featureIds.push(uuid);
      const at = SEED_EPOCH + i * 1000;
      featureRows.push({
        uuid,
        project_id: projectId,
        display_id: `${number}-${i + 1}`,
        title: `Feature ${i + 1}: ${random.pick(['Order to cash', 'Procure to pay', 'Record to report', 'Hire to retire', 'Plan to produce'])} step ${random.int(1, 40)}`,
        description: `<p>Generated feature ${i + 1}.</p>`,
        status_code: random.pick(statuses),
        priority_code: random.pick([10, 20, 30, 40]),
        release_id: null,
        scope_id: null,
        responsible_id: random.pick(PEOPLE),
        workstream_id: null,
        type: null,
        tags: writeJson([]),
        created_at: at,
        modified_at: at + random.int(0, 30 * DAY),
      });
      if (featureRows.length === SEED_BATCH || i === options.features - 1) {
        await insertChunked(featureRows, 15, (chunk) =>
          trx.insertInto('sandbox_features').values(chunk).execute(),
        );
        featureRows = [];
      }
    }
    let taskRows: TaskTable[] = [];
    let assignments = [];
    for (let i = 0; i < options.stories; i++) {
      const id = random.uuid();
      const at = SEED_EPOCH + i * 100;
      taskRows.push(
        task(random, {
          id,
          project_id: projectId,
          title: `User story ${i + 1}`,
          type: 'CALMUS',
          status: random.pick(['CIPUSOPEN', 'CIPUSINP', 'CIPUSCLOSE', 'CIPUSREV']),
          created_at: at,
          last_changed_at: at + random.int(0, 20 * DAY),
          assignee_id: random.pick(PEOPLE),
          story_points: random.pick([1, 2, 3, 5, 8, 13]),
        }),
      );
      const feature = featureIds[i % Math.max(featureIds.length, 1)];
      if (feature) assignments.push({ parent_uuid: feature, task_id: id, created_at: at });
      if (taskRows.length === SEED_BATCH || i === options.stories - 1) {
        await insertChunked(taskRows, 26, (chunk) => trx.insertInto('sandbox_tasks').values(chunk).execute());
        await insertChunked(assignments, 3, (chunk) =>
          trx.insertInto('sandbox_task_assignments').values(chunk).execute(),
        );
        taskRows = [];
        assignments = [];
      }
    }
  });
  return {
    projectId,
    projects: 1,
    features: options.features,
    tasks: options.stories,
    skipped: false,
    millis: performance.now() - started,
  };
}

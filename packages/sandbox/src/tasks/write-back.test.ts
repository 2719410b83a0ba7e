import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PROJECT_ID, DEMO_SECOND_PROJECT_ID } from '../seed/seed.js';
import { type Harness, json, startHarness } from '../test-fixtures/harness.js';
import { TASK_STATUSES, TASK_TYPES, type TaskType } from './catalog.js';

/** Read, change, write back: a task exactly as GET returns it is accepted by PATCH and POST. */

type Task = Record<string, unknown> & {
  id: string;
  projectId: string;
  type: TaskType;
  title: string;
  status: string;
  subStatus: string | null;
  parentId: string | null;
  timeboxId: string | null;
  deliverableId: string | null;
  approvalState: string | null;
  tags: string[];
  createdTimestamp: string;
  lastChangedTimestamp: string;
};
type Message = { message: string };

let h: Harness;
const T = '/calm-tasks/v1';
let clock = Date.parse('2026-05-01T08:00:00Z');
let openTimebox: string;
let deliverable: string;

async function get(id: string): Promise<Task> {
  const response = await h.call(`${T}/tasks/${id}`);
  expect(response.status).toBe(200);
  return json<Task>(response);
}

async function create(body: Record<string, unknown>): Promise<Task> {
  const response = await h.call(`${T}/tasks`, {
    method: 'POST',
    json: { projectId: DEMO_PROJECT_ID, ...body },
  });
  expect(response.status, await response.clone().text()).toBe(201);
  return json<Task>(response);
}

function otherStatus(task: Task): string {
  return TASK_STATUSES[task.type].find((status) => status !== task.status) as string;
}

beforeAll(async () => {
  h = await startHarness({
    seed: 'demo',
    now: () => {
      clock += 1000;
      return clock;
    },
  });
  const timeboxes = await json<{ id: string; closed: boolean }[]>(
    await h.call(`/calm-projects/v1/projects/${DEMO_PROJECT_ID}/timeboxes`),
  );
  openTimebox = (timeboxes.find((timebox) => !timebox.closed) as { id: string }).id;
  const created = await h.call(`${T}/deliverables`, {
    method: 'POST',
    json: { projectId: DEMO_PROJECT_ID, name: 'Write-back deliverable', projectPhaseId: openTimebox },
  });
  expect(created.status, await created.clone().text()).toBe(201);
  deliverable = (await json<{ id: string }>(created)).id;
});
afterAll(() => h.stop());

/** One task of every type, with every writable field set, including a sprint, a deliverable and tags. */
async function taskOfEveryType(): Promise<Task[]> {
  const parent = await create({ title: 'Write-back parent', type: 'CALMTASK' });
  const tasks: Task[] = [];
  for (const type of TASK_TYPES) {
    tasks.push(
      await create({
        title: `Write-back ${type}`,
        type,
        ...(type === 'CALMST' ? { parentId: parent.id } : { effort: 4.5 }),
        externalId: `EXT-${type}`,
        startDate: '2026-05-04',
        dueDate: '2026-05-29',
        priorityId: 20,
        assigneeId: 'anna.schmidt@example.com',
        description: `<p>${type}</p>`,
        assignedRoleId: '0b6f1f0c-6e0a-4c47-9a51-6f0f3b1c2d03',
        storyPoints: 3,
        workstream: 'WS003',
        deliverableId: deliverable,
        involvedParties: 'a@example.com,b@example.com',
        timeboxId: openTimebox,
        tags: ['write-back', type.toLowerCase()],
      }),
    );
  }
  return tasks;
}

describe('PATCH /tasks/{id} with the whole task as GET returned it', () => {
  it('accepts it for every task type with two fields changed, and the change is visible', async () => {
    for (const created of await taskOfEveryType()) {
      const read = await get(created.id);
      const status = otherStatus(read);
      const response = await h.call(`${T}/tasks/${read.id}`, {
        method: 'PATCH',
        json: { ...read, title: `${read.title} (edited)`, status },
      });
      expect(response.status, `${read.type}: ${await response.clone().text()}`).toBe(200);
      const again = await get(read.id);
      expect(again.title).toBe(`${read.title} (edited)`);
      expect(again.status).toBe(status);
      // Everything else stays as it was; a requirement's or defect's sub-status follows the status.
      for (const key of [
        'projectId',
        'type',
        'parentId',
        'timeboxId',
        'deliverableId',
        'tags',
        'description',
      ]) {
        expect(again[key], `${read.type}.${key}`).toEqual(read[key]);
      }
      if (read.type === 'CALMREQU') expect(again.subStatus).toBe('IN_REALIZATION');
      if (read.type === 'CALMDEF') expect(again.subStatus).toBe('DFC_INP');
      expect(Date.parse(again.lastChangedTimestamp)).toBeGreaterThan(Date.parse(read.lastChangedTimestamp));
    }
  });

  it('accepts it for every seeded task of the demo project (approved requirements, sub-tasks, defects...)', async () => {
    const list = await json<Task[]>(await h.call(`${T}/tasks?projectId=${DEMO_PROJECT_ID}`));
    const seen = new Set<string>();
    for (const row of list) {
      if (seen.has(`${row.type}/${row.approvalState}/${row.subStatus}`) || row.title.startsWith('Write-back'))
        continue;
      seen.add(`${row.type}/${row.approvalState}/${row.subStatus}`);
      const read = await get(row.id);
      const response = await h.call(`${T}/tasks/${read.id}`, {
        method: 'PATCH',
        json: { ...read, externalId: 'RMW-1', obsolete: !read.obsolete },
      });
      expect(response.status, `${read.type}: ${await response.clone().text()}`).toBe(200);
      const again = await get(read.id);
      expect([again.externalId, again.obsolete]).toEqual(['RMW-1', !read.obsolete]);
      expect([again.status, again.subStatus, again.approvalState]).toEqual([
        read.status,
        read.subStatus,
        read.approvalState,
      ]);
    }
    expect(seen.size).toBeGreaterThanOrEqual(5);
  });

  it('applies the field the client changed when status and sub-status are both written back', async () => {
    const requirement = await create({ title: 'RMW requirement', type: 'CALMREQU' });
    const bySub = await h.call(`${T}/tasks/${requirement.id}`, {
      method: 'PATCH',
      json: { ...(await get(requirement.id)), subStatus: 'CONFIRMED' },
    });
    expect(bySub.status).toBe(200);
    expect((await json<Task>(bySub)).status).toBe('CIPREQUCLOSE');
    const contradicting = await h.call(`${T}/tasks/${requirement.id}`, {
      method: 'PATCH',
      json: { ...(await get(requirement.id)), status: 'CIPREQUOPEN', subStatus: 'IN_REALIZATION' },
    });
    expect(contradicting.status).toBe(400);
    expect((await json<Message>(contradicting)).message).toMatch(/requires status CIPREQUINP/);
  });

  it('changes nothing (no timestamp bump) when written back unchanged', async () => {
    const story = await create({ title: 'RMW unchanged', type: 'CALMUS', tags: ['x'] });
    const read = await get(story.id);
    const response = await h.call(`${T}/tasks/${read.id}`, { method: 'PATCH', json: read });
    expect(response.status).toBe(200);
    expect((await json<Task>(response)).lastChangedTimestamp).toBe(read.lastChangedTimestamp);
  });

  it('ignores read-only fields sent back null or unchanged, also after changing what they derive from', async () => {
    const story = await create({ title: 'RMW derived', type: 'CALMUS', assigneeId: 'a@example.com' });
    const read = await get(story.id);
    const response = await h.call(`${T}/tasks/${read.id}`, {
      method: 'PATCH',
      json: {
        ...read,
        id: read.id.toUpperCase(),
        assigneeId: 'b@example.com',
        createdTimestamp: new Date(Date.parse(read.createdTimestamp)).toISOString(),
        lastChangedTimestamp: '2000-01-01T00:00:00Z',
        scopeName: null,
        timeboxName: null,
      },
    });
    expect(response.status, await response.clone().text()).toBe(200);
    expect((await json<Task>(response)).assigneeName).toBe('b@example.com');
  });

  it('answers 400 naming a read-only field that was really changed', async () => {
    const story = await create({ title: 'RMW read-only', type: 'CALMUS', assigneeId: 'a@example.com' });
    const read = await get(story.id);
    for (const [key, value] of [
      ['id', '00000000-0000-4000-8000-000000000001'],
      ['assigneeName', 'Somebody Else'],
      ['createdTimestamp', '2020-01-01T00:00:00.0000000Z'],
      ['timeboxName', 'Sprint 99'],
      ['type', 'CALMTASK'],
      ['projectId', DEMO_SECOND_PROJECT_ID],
      ['approvalState', 'APPROVED'],
    ] as const) {
      const response = await h.call(`${T}/tasks/${read.id}`, {
        method: 'PATCH',
        json: { ...read, [key]: value },
      });
      expect(response.status, key).toBe(400);
      expect((await json<Message>(response)).message).toContain(key);
    }
    const unknown = await h.call(`${T}/tasks/${read.id}`, {
      method: 'PATCH',
      json: { ...read, color: 'red' },
    });
    expect(unknown.status).toBe(400);
    expect((await json<Message>(unknown)).message).toContain('color');
  });
});

describe('POST /tasks with a task as GET returned it (copy into another project)', () => {
  it('creates a copy of every task type in another project', async () => {
    const copies = new Map<string, string>();
    for (const created of await taskOfEveryType()) {
      const read = await get(created.id);
      const body: Record<string, unknown> = { ...read, projectId: DEMO_SECOND_PROJECT_ID };
      // A sub-task needs a parent in the target project: its copied parent.
      if (read.parentId) {
        if (!copies.has(read.parentId)) {
          const parent = await get(read.parentId);
          const copiedParent = await h.call(`${T}/tasks`, {
            method: 'POST',
            json: { ...parent, projectId: DEMO_SECOND_PROJECT_ID },
          });
          expect(copiedParent.status).toBe(201);
          copies.set(read.parentId, (await json<Task>(copiedParent)).id);
        }
        body.parentId = copies.get(read.parentId);
      }
      const response = await h.call(`${T}/tasks`, { method: 'POST', json: body });
      expect(response.status, `${read.type}: ${await response.clone().text()}`).toBe(201);
      const copy = await json<Task>(response);
      copies.set(read.id, copy.id);
      expect(copy.id).not.toBe(read.id);
      expect(copy.projectId).toBe(DEMO_SECOND_PROJECT_ID);
      for (const key of [
        'title',
        'type',
        'status',
        'subStatus',
        'externalId',
        'dueDate',
        'priorityId',
        'tags',
      ]) {
        expect(copy[key], `${read.type}.${key}`).toEqual(read[key]);
      }
      // The source project's sprint and deliverable do not exist in the target: left out, and said so.
      expect([copy.timeboxId, copy.deliverableId]).toEqual([null, null]);
      const warning = response.headers.get('warning') ?? '';
      expect(warning).toMatch(
        /^199 - "timeboxId .* was not copied", 199 - "deliverableId .* was not copied"$/,
      );
    }
  });

  it('copies status, sub-status and obsolete; a final approval starts over with a Warning', async () => {
    const requirement = await create({ title: 'Copy requirement', type: 'CALMREQU' });
    for (const approvalState of ['READY_4_APPR', 'APPROVED']) {
      expect(
        (await h.call(`${T}/tasks/${requirement.id}`, { method: 'PATCH', json: { approvalState } })).status,
      ).toBe(200);
    }
    await h.call(`${T}/tasks/${requirement.id}`, {
      method: 'PATCH',
      json: { subStatus: 'APPROVED_FOR_DEPLOYMENT', obsolete: true },
    });
    const read = await get(requirement.id);
    const response = await h.call(`${T}/tasks`, {
      method: 'POST',
      json: { ...read, projectId: DEMO_SECOND_PROJECT_ID },
    });
    expect(response.status).toBe(201);
    const copy = await json<Task>(response);
    expect([copy.status, copy.subStatus, copy.obsolete, copy.approvalState]).toEqual([
      'CIPREQUINP',
      'APPROVED_FOR_DEPLOYMENT',
      true,
      null,
    ]);
    expect(response.headers.get('warning')).toMatch(/approvalState APPROVED not copied/);

    const ready = await create({ title: 'Copy ready requirement', type: 'CALMREQU' });
    await h.call(`${T}/tasks/${ready.id}`, { method: 'PATCH', json: { approvalState: 'READY_4_APPR' } });
    const readyCopy = await h.call(`${T}/tasks`, {
      method: 'POST',
      json: { ...(await get(ready.id)), projectId: DEMO_SECOND_PROJECT_ID },
    });
    expect((await json<Task>(readyCopy)).approvalState).toBe('READY_4_APPR');
  });

  it('still refuses invalid writable values and unknown properties', async () => {
    const read = await get((await create({ title: 'Copy invalid', type: 'CALMUS' })).id);
    for (const [key, value] of [
      ['status', 'CIPTKOPEN'],
      ['subStatus', 'DFC_NEW'],
      ['approvalState', 'READY_4_APPR'],
      ['whatever', 1],
    ] as const) {
      const response = await h.call(`${T}/tasks`, {
        method: 'POST',
        json: { ...read, projectId: DEMO_SECOND_PROJECT_ID, [key]: value },
      });
      expect(response.status, key).toBe(400);
    }
  });
});

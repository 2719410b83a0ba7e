import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxEvent } from '../events/events.js';
import { DEMO_PROJECT_ID, DEMO_SECOND_PROJECT_ID } from '../seed/seed.js';
import { type Harness, json, startHarness } from '../test-fixtures/harness.js';

type Task = Record<string, unknown> & {
  id: string;
  type: string;
  status: string;
  subStatus: string | null;
  lastChangedTimestamp: string;
};
type Message = { message: string };

let h: Harness;
const T = '/calm-tasks/v1';
let clock = Date.parse('2026-04-01T08:00:00Z');

async function create(body: Record<string, unknown>): Promise<Task> {
  const response = await h.call(`${T}/tasks`, {
    method: 'POST',
    json: { projectId: DEMO_PROJECT_ID, ...body },
  });
  expect(response.status, await response.clone().text()).toBe(201);
  return json<Task>(response);
}

async function patch(id: string, body: Record<string, unknown>): Promise<Response> {
  return h.call(`${T}/tasks/${id}`, { method: 'PATCH', json: body });
}

async function events(resourceId: string): Promise<SandboxEvent[]> {
  return (await json<{ events: SandboxEvent[] }>(await h.admin(`/events?resourceId=${resourceId}`))).events;
}

beforeAll(async () => {
  h = await startHarness({
    seed: 'demo',
    now: () => {
      clock += 1000;
      return clock;
    },
  });
});
afterAll(() => h.stop());

describe('GET /tasks', () => {
  it('requires projectId and refuses every $ option with 400 {message}', async () => {
    const missing = await h.call(`${T}/tasks`);
    expect(missing.status).toBe(400);
    expect(Object.keys(await json(missing))).toEqual(['message']);
    for (const option of ['$top=5', '$select=id', '$filter=type%20eq%20%27CALMUS%27', '$count=true']) {
      const response = await h.call(`${T}/tasks?projectId=${DEMO_PROJECT_ID}&${option}`);
      expect(response.status).toBe(400);
      expect((await json<Message>(response)).message).toMatch(/not supported/);
    }
    expect((await h.call(`${T}/tasks?projectId=not-a-uuid`)).status).toBe(400);
    expect((await h.call(`${T}/tasks?projectId=00000000-0000-4000-8000-000000000000`)).status).toBe(404);
  });

  it('returns a bare array of list rows without description, paged by offset/limit', async () => {
    const all = await json<Task[]>(await h.call(`${T}/tasks?projectId=${DEMO_PROJECT_ID}`));
    expect(Array.isArray(all)).toBe(true);
    expect(all.length).toBeGreaterThan(30);
    expect(all[0]).not.toHaveProperty('description');
    expect(all[0]).not.toHaveProperty('timeboxName');
    expect(all[0]?.createdTimestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$/);
    const first = await json<Task[]>(
      await h.call(`${T}/tasks?projectId=${DEMO_PROJECT_ID}&offset=0&limit=10`),
    );
    const second = await json<Task[]>(
      await h.call(`${T}/tasks?projectId=${DEMO_PROJECT_ID}&offset=10&limit=10`),
    );
    expect(first.map((t) => t.id)).toEqual(all.slice(0, 10).map((t) => t.id));
    expect(second.map((t) => t.id)).toEqual(all.slice(10, 20).map((t) => t.id));
    const beyond = await json<Task[]>(
      await h.call(`${T}/tasks?projectId=${DEMO_PROJECT_ID}&offset=500&limit=500`),
    );
    expect(beyond).toEqual([]);
    expect((await h.call(`${T}/tasks?projectId=${DEMO_PROJECT_ID}&limit=0`)).status).toBe(400);
    expect((await h.call(`${T}/tasks?projectId=${DEMO_PROJECT_ID}&offset=-1`)).status).toBe(400);
  });

  it('filters by type, status, subStatus and assigneeId', async () => {
    const stories = await json<Task[]>(await h.call(`${T}/tasks?projectId=${DEMO_PROJECT_ID}&type=CALMUS`));
    expect(stories.length).toBeGreaterThan(10);
    expect(stories.every((t) => t.type === 'CALMUS')).toBe(true);
    const closed = await json<Task[]>(
      await h.call(`${T}/tasks?projectId=${DEMO_PROJECT_ID}&type=CALMUS&status=CIPUSCLOSE`),
    );
    expect(closed.every((t) => t.status === 'CIPUSCLOSE')).toBe(true);
    const approval = await json<Task[]>(
      await h.call(`${T}/tasks?projectId=${DEMO_PROJECT_ID}&subStatus=TO_BE_APPROVED`),
    );
    expect(approval.map((t) => t.title)).toEqual(['Intercompany differences below 0.1 %']);
    const anna = await json<Task[]>(
      await h.call(`${T}/tasks?projectId=${DEMO_PROJECT_ID}&assigneeId=anna.schmidt@example.com`),
    );
    expect(anna.length).toBeGreaterThan(0);
    expect(anna.every((t) => t.assigneeId === 'anna.schmidt@example.com')).toBe(true);
  });

  it('filters by lastChangedTimestamp and lastChangedDate with gt:/eq:/lt:', async () => {
    const task = await create({ title: 'Polling target' });
    const at = Date.parse(task.lastChangedTimestamp);
    const before = new Date(at - 1).toISOString();
    const after = await json<Task[]>(
      await h.call(
        `${T}/tasks?projectId=${DEMO_PROJECT_ID}&lastChangedTimestamp=gt:${encodeURIComponent(before)}`,
      ),
    );
    expect(after.map((t) => t.id)).toEqual([task.id]);
    const withOffset = new Date(at - 1).toISOString().replace('Z', '+00:00');
    const offsetEncoded = await json<Task[]>(
      await h.call(
        `${T}/tasks?projectId=${DEMO_PROJECT_ID}&lastChangedTimestamp=gt:${encodeURIComponent(withOffset)}`,
      ),
    );
    expect(offsetEncoded.map((t) => t.id)).toEqual([task.id]);
    const exact = await json<Task[]>(
      await h.call(
        `${T}/tasks?projectId=${DEMO_PROJECT_ID}&lastChangedTimestamp=eq:${task.lastChangedTimestamp}`,
      ),
    );
    expect(exact.map((t) => t.id)).toEqual([task.id]);
    const older = await json<Task[]>(
      await h.call(
        `${T}/tasks?projectId=${DEMO_PROJECT_ID}&lastChangedTimestamp=lt:${encodeURIComponent(before)}`,
      ),
    );
    expect(older.map((t) => t.id)).not.toContain(task.id);
    const day = task.lastChangedTimestamp.slice(0, 10);
    const sameDay = await json<Task[]>(
      await h.call(`${T}/tasks?projectId=${DEMO_PROJECT_ID}&lastChangedDate=eq:${day}`),
    );
    expect(sameDay.map((t) => t.id)).toContain(task.id);
    const seeded = await json<Task[]>(
      await h.call(`${T}/tasks?projectId=${DEMO_PROJECT_ID}&lastChangedDate=lt:${day}`),
    );
    expect(seeded.map((t) => t.id)).not.toContain(task.id);
    expect((await h.call(`${T}/tasks?projectId=${DEMO_PROJECT_ID}&lastChangedDate=gt:${day}`)).status).toBe(
      200,
    );
    expect(
      (await h.call(`${T}/tasks?projectId=${DEMO_PROJECT_ID}&lastChangedDate=after:2026-01-01`)).status,
    ).toBe(400);
    expect(
      (await h.call(`${T}/tasks?projectId=${DEMO_PROJECT_ID}&lastChangedTimestamp=gt:yesterday`)).status,
    ).toBe(400);
  });
});

describe('task lifecycle', () => {
  it('creates a user story in its open status, returns it with description, and emits TASK.CREATED without nulls', async () => {
    const task = await create({
      title: 'As a user I want X',
      type: 'CALMUS',
      description: '<b>HTML</b> allowed',
      storyPoints: 5,
      priorityId: 20,
      assigneeId: 'user@example.com',
    });
    expect(task).toMatchObject({
      type: 'CALMUS',
      status: 'CIPUSOPEN',
      subStatus: null,
      description: '<b>HTML</b> allowed',
      storyPoints: 5,
      priorityId: 20,
      assigneeName: 'user@example.com',
      obsolete: false,
      timeboxName: null,
    });
    const fetched = await json<Task>(await h.call(`${T}/tasks/${task.id}`));
    expect(fetched).toEqual(task);
    const [event] = await events(task.id);
    expect(event?.eventType).toBe('TASK.CREATED');
    expect(event?.resource).toMatchObject({
      id: task.id,
      type: 'CALMUS',
      status: 'CIPUSOPEN',
      description: '<b>HTML</b> allowed',
    });
    expect(event?.resource).not.toHaveProperty('subStatus');
  });

  it('defaults to a project task and validates per-type statuses on PATCH', async () => {
    const task = await create({ title: 'Plain task' });
    expect(task.type).toBe('CALMTASK');
    expect(task.status).toBe('CIPTKOPEN');
    const wrong = await patch(task.id, { status: 'CIPUSINP' });
    expect(wrong.status).toBe(400);
    expect((await json<Message>(wrong)).message).toMatch(/Invalid status 'CIPUSINP' for task type CALMTASK/);
    const ok = await patch(task.id, { status: 'CIPTKINP', title: 'Renamed' });
    expect(ok.status).toBe(200);
    const updated = await json<Task>(ok);
    expect(updated.status).toBe('CIPTKINP');
    expect(updated.title).toBe('Renamed');
    expect(Date.parse(updated.lastChangedTimestamp)).toBeGreaterThan(Date.parse(task.lastChangedTimestamp));
    const kinds = (await events(task.id)).map((e) => [e.eventType, e.resource.status]);
    expect(kinds).toEqual([
      ['TASK.CREATED', 'CIPTKOPEN'],
      ['TASK.UPDATED', 'CIPTKINP'],
    ]);
    expect((await patch(task.id, { type: 'CALMUS' })).status).toBe(400);
    expect((await patch(task.id, { subStatus: 'CREATED' })).status).toBe(400);
    expect((await patch(task.id, { startDate: '2026-13-01' })).status).toBe(400);
    expect((await patch(task.id, { startDate: '2026-05-10', dueDate: '2026-05-01' })).status).toBe(400);
    expect((await patch(task.id, { priorityId: 35 })).status).toBe(400);
    expect((await patch(task.id, { bogus: 1 })).status).toBe(400);
  });

  it('keeps requirement status and sub-status consistent', async () => {
    const requirement = await create({ title: 'Requirement', type: 'CALMREQU' });
    expect(requirement).toMatchObject({ status: 'CIPREQUOPEN', subStatus: 'CREATED', approvalState: null });
    const realization = await json<Task>(await patch(requirement.id, { subStatus: 'IN_REALIZATION' }));
    expect(realization).toMatchObject({ status: 'CIPREQUINP', subStatus: 'IN_REALIZATION' });
    const closed = await json<Task>(await patch(requirement.id, { status: 'CIPREQUCLOSE' }));
    expect(closed).toMatchObject({ status: 'CIPREQUCLOSE', subStatus: 'CONFIRMED' });
    const mismatch = await patch(requirement.id, { status: 'CIPREQUOPEN', subStatus: 'NOT_PLANNED' });
    expect(mismatch.status).toBe(400);
  });

  it('enforces requirement approval rules and refuses to delete approved requirements', async () => {
    const requirement = await create({ title: 'Needs approval', type: 'CALMREQU' });
    expect((await patch(requirement.id, { approvalState: 'APPROVED' })).status).toBe(400);
    expect((await patch(requirement.id, { approvalState: 'READY_4_APPR' })).status).toBe(200);
    expect((await patch(requirement.id, { approvalState: 'APPROVED' })).status).toBe(200);
    const final = await patch(requirement.id, { approvalState: 'REJECTED' });
    expect(final.status).toBe(400);
    expect((await json<Message>(final)).message).toMatch(/final/);
    const deletion = await h.call(`${T}/tasks/${requirement.id}`, { method: 'DELETE' });
    expect(deletion.status).toBe(400);
    expect((await json<Message>(deletion)).message).toMatch(/Approved requirements cannot be deleted/);
    const story = await create({ title: 'story', type: 'CALMUS' });
    expect((await patch(story.id, { approvalState: 'READY_4_APPR' })).status).toBe(400);
  });

  it('handles defects with their sub-statuses', async () => {
    const defect = await create({ title: 'Broken', type: 'CALMDEF' });
    expect(defect).toMatchObject({ status: 'CIPDFCTOPEN', subStatus: 'DFC_NEW' });
    expect(await json<Task>(await patch(defect.id, { subStatus: 'DFC_RETEST_REQ' }))).toMatchObject({
      status: 'CIPDFCTINP',
      subStatus: 'DFC_RETEST_REQ',
    });
    expect((await patch(defect.id, { subStatus: 'CREATED' })).status).toBe(400);
  });

  it('creates sub-tasks under a parent and lists them; enforces the sub-task rules', async () => {
    const parent = await create({ title: 'Parent story', type: 'CALMUS' });
    const sub = await create({ title: 'Sub-task', type: 'CALMST', parentId: parent.id });
    expect(sub).toMatchObject({ type: 'CALMST', status: 'CIPTKOPEN', parentId: parent.id });
    const subTasks = await json<Task[]>(await h.call(`${T}/tasks/${parent.id}/subTasks`));
    expect(subTasks.map((t) => t.id)).toEqual([sub.id]);
    const bad = [
      { title: 'no parent', type: 'CALMST' },
      { title: 'nested', type: 'CALMST', parentId: sub.id },
      { title: 'effort', type: 'CALMST', parentId: parent.id, effort: 3 },
      { title: 'parent on story', type: 'CALMUS', parentId: parent.id },
      { title: 'bad type', type: 'CALMXYZ' },
      { type: 'CALMUS' },
      { title: 'negative', storyPoints: -1 },
    ];
    for (const body of bad) {
      const response = await h.call(`${T}/tasks`, {
        method: 'POST',
        json: { projectId: DEMO_PROJECT_ID, ...body },
      });
      expect(response.status, JSON.stringify(body)).toBe(400);
    }
    expect((await patch(sub.id, { parentId: parent.id })).status).toBe(200);
    expect((await h.call(`${T}/tasks/${parent.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await h.call(`${T}/tasks/${sub.id}`)).status).toBe(404);
  });

  it('refuses closed timeboxes and accepts open ones', async () => {
    const timeboxes = await json<{ id: string; name: string; closed: boolean }[]>(
      await h.call(`/calm-projects/v1/projects/${DEMO_PROJECT_ID}/timeboxes`),
    );
    const closed = timeboxes.find((t) => t.closed);
    const open = timeboxes.find((t) => !t.closed && t.name.startsWith('Sprint'));
    const task = await create({ title: 'Sprint work', type: 'CALMUS' });
    expect((await patch(task.id, { timeboxId: closed?.id })).status).toBe(400);
    const assigned = await json<Task>(await patch(task.id, { timeboxId: open?.id }));
    expect(assigned.timeboxName).toBe(open?.name);
  });

  it('answers 404 {message} for unknown tasks and 204 on delete', async () => {
    const missing = await h.call(`${T}/tasks/00000000-0000-4000-8000-000000000000`);
    expect(missing.status).toBe(404);
    expect(await json(missing)).toEqual({
      message: 'Task with id 00000000-0000-4000-8000-000000000000 not found',
    });
    expect((await h.call(`${T}/tasks/nope`)).status).toBe(404);
    const task = await create({ title: 'to delete' });
    const deleted = await h.call(`${T}/tasks/${task.id}`, {
      method: 'DELETE',
      headers: { 'content-type': 'application/json' },
    });
    expect(deleted.status).toBe(204);
    expect((await h.call(`${T}/tasks/${task.id}`)).status).toBe(404);
    expect((await h.call(`${T}/nothing-here`)).status).toBe(404);
  });

  it('creates tasks in projects of other clients only when visible', async () => {
    const { token } = await h.client({ name: 'second only', projectIds: [DEMO_SECOND_PROJECT_ID] });
    const response = await h.call(`${T}/tasks`, {
      method: 'POST',
      token,
      json: { projectId: DEMO_PROJECT_ID, title: 'x' },
    });
    expect(response.status).toBe(403);
    expect(
      (
        await h.call(`${T}/tasks`, {
          method: 'POST',
          token,
          json: { projectId: DEMO_SECOND_PROJECT_ID, title: 'x' },
        })
      ).status,
    ).toBe(201);
  });
});

describe('comments, references and feature assignments', () => {
  it('adds comments with {text}, lists, edits and deletes them; each change is a TASK.UPDATED', async () => {
    const task = await create({ title: 'Commented', type: 'CALMUS' });
    const created = await h.call(`${T}/tasks/${task.id}/comments`, {
      method: 'POST',
      json: { text: 'Transport S4DK900123 released' },
    });
    expect(created.status).toBe(201);
    const comment = await json<{
      id: string;
      taskId: string;
      text: string;
      createdBy: string;
      createdTimestamp: string;
    }>(created);
    expect(comment).toMatchObject({
      taskId: task.id,
      text: 'Transport S4DK900123 released',
      createdBy: h.sandbox.serviceKey.uaa.clientid,
    });
    const listed = await json<{ id: string }[]>(await h.call(`${T}/tasks/${task.id}/comments`));
    expect(listed.map((c) => c.id)).toEqual([comment.id]);
    const edited = await h.call(`${T}/tasks/comments/${comment.id}`, {
      method: 'PATCH',
      json: { text: 'edited' },
    });
    expect(edited.status).toBe(200);
    expect((await json<{ text: string }>(edited)).text).toBe('edited');
    expect((await h.call(`${T}/tasks/comments/${comment.id}`, { method: 'DELETE' })).status).toBe(204);
    expect(await json(await h.call(`${T}/tasks/${task.id}/comments`))).toEqual([]);
    const kinds = (await events(task.id)).map((e) => e.eventType);
    expect(kinds).toEqual(['TASK.CREATED', 'TASK.UPDATED', 'TASK.UPDATED', 'TASK.UPDATED']);
    for (const body of [{}, { content: 'FR-CLIENT style' }, { text: '' }, { text: 5 }]) {
      expect((await h.call(`${T}/tasks/${task.id}/comments`, { method: 'POST', json: body })).status).toBe(
        400,
      );
    }
    expect(
      (
        await h.call(`${T}/tasks/00000000-0000-4000-8000-000000000000/comments`, {
          method: 'POST',
          json: { text: 'x' },
        })
      ).status,
    ).toBe(404);
  });

  it('manages references with https URLs only', async () => {
    const task = await create({ title: 'Referenced' });
    const created = await h.call(`${T}/tasks/${task.id}/references`, {
      method: 'POST',
      json: { name: 'Pipeline', url: 'https://ci.example.com/1' },
    });
    expect(created.status).toBe(201);
    const reference = await json<{ id: string; taskId: string; name: string; url: string }>(created);
    expect(reference).toMatchObject({ taskId: task.id, name: 'Pipeline' });
    expect(
      (
        await h.call(`${T}/tasks/${task.id}/references`, {
          method: 'POST',
          json: { name: 'x', url: 'http://insecure' },
        })
      ).status,
    ).toBe(400);
    const edited = await json<{ url: string }>(
      await h.call(`${T}/tasks/references/${reference.id}`, {
        method: 'PATCH',
        json: { url: 'https://ci.example.com/2' },
      }),
    );
    expect(edited.url).toBe('https://ci.example.com/2');
    expect((await json<unknown[]>(await h.call(`${T}/tasks/${task.id}/references`))).length).toBe(1);
    expect((await h.call(`${T}/tasks/references/${reference.id}`, { method: 'DELETE' })).status).toBe(204);
  });

  it('lists the features a user story is assigned to', async () => {
    const stories = await json<Task[]>(
      await h.call(`${T}/tasks?projectId=${DEMO_PROJECT_ID}&type=CALMUS&limit=1`),
    );
    const story = stories[0] as Task;
    const assignments = await json<{ featureId: string; featureDisplayId: string; taskId: string }[]>(
      await h.call(`${T}/tasks/${story.id}/featureAssignments`),
    );
    expect(assignments).toHaveLength(1);
    expect(assignments[0]?.taskId).toBe(story.id);
    const feature = await h.call(`/calm-features/v1/Features/${assignments[0]?.featureId}`);
    expect(feature.status).toBe(200);
  });
});

describe('workstreams and deliverables', () => {
  it('lists standard workstreams and manages custom ones', async () => {
    const initial = await json<{ id: string; isCustom: boolean }[]>(await h.call(`${T}/workstreams`));
    expect(initial.find((w) => w.id === 'WS001')).toEqual({
      id: 'WS001',
      name: 'Project Management',
      isCustom: false,
    });
    const created = await json<{ id: string; isCustom: boolean }>(
      await h.call(`${T}/workstreams`, { method: 'POST', json: { name: 'Data Migration' } }),
    );
    expect(created.isCustom).toBe(true);
    expect(
      (
        await h.call(`${T}/workstreams/${created.id}`, {
          method: 'PATCH',
          json: { name: 'Data Migration & Archiving' },
        })
      ).status,
    ).toBe(200);
    expect((await h.call(`${T}/workstreams/WS001`, { method: 'DELETE' })).status).toBe(400);
    expect((await h.call(`${T}/workstreams/${created.id}`, { method: 'DELETE' })).status).toBe(204);
  });

  it('requires projectId on /deliverables and manages custom deliverables', async () => {
    expect((await h.call(`${T}/deliverables`)).status).toBe(400);
    const timeboxes = await json<{ id: string; type: number }[]>(
      await h.call(`/calm-projects/v1/projects/${DEMO_PROJECT_ID}/timeboxes`),
    );
    const phase = timeboxes.find((t) => t.type === 1);
    const created = await h.call(`${T}/deliverables`, {
      method: 'POST',
      json: { projectId: DEMO_PROJECT_ID, name: 'Test Strategy', projectPhaseId: phase?.id },
    });
    expect(created.status).toBe(201);
    const deliverable = await json<{ id: string; isCustom: boolean; projectId: string }>(created);
    expect(deliverable).toMatchObject({ isCustom: true, projectId: DEMO_PROJECT_ID });
    const listed = await json<{ id: string }[]>(
      await h.call(`${T}/deliverables?projectId=${DEMO_PROJECT_ID}`),
    );
    expect(listed.map((d) => d.id)).toContain(deliverable.id);
    expect((await h.call(`${T}/deliverables/${deliverable.id}`)).status).toBe(200);
    expect(
      (
        await h.call(`${T}/deliverables/${deliverable.id}`, {
          method: 'PATCH',
          json: { description: 'How we test' },
        })
      ).status,
    ).toBe(200);
    const task = await create({ title: 'uses deliverable', deliverableId: deliverable.id });
    expect(task.deliverableId).toBe(deliverable.id);
    expect((await h.call(`${T}/deliverables/${deliverable.id}`, { method: 'DELETE' })).status).toBe(400);
    expect((await h.call(`${T}/tasks/${task.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await h.call(`${T}/deliverables/${deliverable.id}`, { method: 'DELETE' })).status).toBe(204);
  });
});

describe('solution process assignments', () => {
  const SPA = `${T}/tasks/solutionProcessAssignments`;
  const SCOPE = '5f0b3c1e-8a4d-4c6e-9f2a-1b3c5d7e9f01';
  type Assignment = {
    relationId: string;
    taskId: string;
    projectId: string;
    scopeId: string;
    solutionScenarioVersionId: string;
    solutionProcessId: string;
  };
  const link = (taskId: string, process: string) => ({
    taskId,
    scopeId: SCOPE,
    solutionScenarioVersionId: 'J58-V1',
    solutionProcessId: process,
  });

  it('answers GET with 200 and an array instead of taking the path for a task id', async () => {
    const response = await h.call(`${SPA}?projectId=${DEMO_PROJECT_ID}`);
    expect(response.status).toBe(200);
    expect(Array.isArray(await json(response))).toBe(true);
    const missing = await h.call(SPA);
    expect(missing.status).toBe(400);
    expect(Object.keys(await json(missing))).toEqual(['message']);
  });

  it('creates links with relationId and projectId, lists them by task and pages them, deletes them; each change is a TASK.UPDATED', async () => {
    const story = await create({ title: 'Process story', type: 'CALMUS' });
    const other = await create({ title: 'Process task' });
    const posted = await h.call(SPA, {
      method: 'POST',
      json: [link(story.id, 'BP-1'), link(story.id, 'BP-2'), link(other.id.toUpperCase(), 'BP-1')],
    });
    expect(posted.status, await posted.clone().text()).toBe(201);
    const created = await json<Assignment[]>(posted);
    expect(created).toHaveLength(3);
    expect(created[0]).toEqual({
      relationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      projectId: DEMO_PROJECT_ID,
      ...link(story.id, 'BP-1'),
    });
    expect(created[2]?.taskId).toBe(other.id);

    const byTask = await json<Assignment[]>(
      await h.call(`${SPA}?projectId=${DEMO_PROJECT_ID}&taskId=${story.id}`),
    );
    expect(byTask.map((a) => a.solutionProcessId)).toEqual(['BP-1', 'BP-2']);
    const both = await json<Assignment[]>(
      await h.call(
        `${SPA}?projectId=${DEMO_PROJECT_ID}&taskId=${story.id}&taskId=${other.id}&offset=1&limit=1`,
      ),
    );
    expect(both.map((a) => a.relationId)).toEqual([created[1]?.relationId]);
    expect((await json<Task>(await h.call(`${T}/tasks/${story.id}`))).lastChangedTimestamp).not.toBe(
      story.lastChangedTimestamp,
    );
    expect((await events(story.id)).map((e) => e.eventType)).toEqual(['TASK.CREATED', 'TASK.UPDATED']);

    const duplicate = await h.call(SPA, { method: 'POST', json: [link(story.id, 'BP-1')] });
    expect(duplicate.status).toBe(409);
    const deleted = await h.call(SPA, {
      method: 'DELETE',
      json: [created[0]?.relationId, { relationId: created[2]?.relationId }, link(story.id, 'BP-2')],
    });
    expect(deleted.status).toBe(204);
    expect(
      await json(await h.call(`${SPA}?projectId=${DEMO_PROJECT_ID}&taskId=${story.id},${other.id}`)),
    ).toEqual([]);
    expect((await events(story.id)).map((e) => e.eventType)).toEqual([
      'TASK.CREATED',
      'TASK.UPDATED',
      'TASK.UPDATED',
    ]);
    const again = await h.call(SPA, { method: 'DELETE', json: [created[0]?.relationId] });
    expect(again.status).toBe(404);
  });

  it('validates the array body all or nothing and checks scopes and project visibility', async () => {
    const story = await create({ title: 'Validated', type: 'CALMUS' });
    for (const body of [
      {},
      [],
      [{ ...link(story.id, 'BP-1'), extra: 1 }],
      [{ ...link(story.id, 'BP-1'), scopeId: 'nope' }],
      [link(story.id, 'BP-1'), link(story.id, 'BP-1')],
    ]) {
      const response = await h.call(SPA, { method: 'POST', json: body });
      expect(response.status, JSON.stringify(body)).toBe(400);
    }
    const unknownTask = await h.call(SPA, {
      method: 'POST',
      json: [link(story.id, 'BP-9'), link('00000000-0000-4000-8000-000000000000', 'BP-9')],
    });
    expect(unknownTask.status).toBe(404);
    expect(await json(await h.call(`${SPA}?projectId=${DEMO_PROJECT_ID}&taskId=${story.id}`))).toEqual([]);

    const tasksOnly = await h.client({ scopes: ['tasks.read', 'tasks.write'] });
    const forbidden = await h.call(SPA, {
      method: 'POST',
      token: tasksOnly.token,
      json: [link(story.id, 'BP-1')],
    });
    expect(forbidden.status).toBe(403);
    expect((await json<Message>(forbidden)).message).toMatch(/processmanagement\.write/);
    const hidden = await h.client({ projectIds: [DEMO_SECOND_PROJECT_ID] });
    expect((await h.call(`${SPA}?projectId=${DEMO_PROJECT_ID}`, { token: hidden.token })).status).toBe(403);
    expect(
      (await h.call(SPA, { method: 'POST', token: hidden.token, json: [link(story.id, 'BP-1')] })).status,
    ).toBe(403);
  });
});

describe('review fixes', () => {
  it('refuses to change or remove parentId (not patchable), accepts the current value', async () => {
    const parent = await create({ title: 'Parent', type: 'CALMUS' });
    const other = await create({ title: 'Other parent', type: 'CALMUS' });
    const sub = await create({ title: 'Sub', type: 'CALMST', parentId: parent.id });
    for (const body of [{ parentId: null }, { parentId: other.id }]) {
      const response = await patch(sub.id, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect((await json<Message>(response)).message).toMatch(/parentId/);
    }
    expect((await patch(parent.id, { parentId: other.id })).status).toBe(400);
    expect((await patch(sub.id, { parentId: parent.id.toUpperCase() })).status).toBe(200);
    expect((await patch(parent.id, { parentId: null })).status).toBe(200);
    expect((await json<Task>(await h.call(`${T}/tasks/${sub.id}`))).parentId).toBe(parent.id);
  });

  it('does not bump lastChangedTimestamp or emit TASK.UPDATED for a PATCH that changes nothing', async () => {
    const task = await create({ title: 'Quiet', type: 'CALMUS', priorityId: 20 });
    for (const body of [{}, { title: 'Quiet', priorityId: 20, status: 'CIPUSOPEN', type: 'CALMUS' }]) {
      const response = await patch(task.id, body);
      expect(response.status).toBe(200);
      expect((await json<Task>(response)).lastChangedTimestamp).toBe(task.lastChangedTimestamp);
    }
    expect((await events(task.id)).map((e) => e.eventType)).toEqual(['TASK.CREATED']);
    const changed = await json<Task>(await patch(task.id, { priorityId: 10 }));
    expect(changed.lastChangedTimestamp).not.toBe(task.lastChangedTimestamp);
    expect((await events(task.id)).map((e) => e.eventType)).toEqual(['TASK.CREATED', 'TASK.UPDATED']);
  });

  it('answers Fastify errors (413, 415) with a plain {message} and nothing internal', async () => {
    const large = await h.call(`${T}/tasks`, {
      method: 'POST',
      body: JSON.stringify({ projectId: DEMO_PROJECT_ID, title: 'x'.repeat(11 * 1024 * 1024) }),
      headers: { 'content-type': 'application/json' },
    });
    expect(large.status).toBe(413);
    expect(await json(large)).toEqual({ message: 'The request body is too large' });
    const media = await h.call(`${T}/tasks`, {
      method: 'POST',
      body: '<task/>',
      headers: { 'content-type': 'application/xml' },
    });
    expect(media.status).toBe(415);
    expect(await json(media)).toEqual({ message: 'Unsupported media type: application/xml' });
  });
});

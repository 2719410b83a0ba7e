import type { CalmFeature, CalmTask, CalmTransport } from '../connectors/cloud-alm/client.js';
import type { FakeCloudAlm } from '../connectors/cloud-alm/fake-client.js';

const uuid = (prefix: number, n: number) =>
  `${prefix.toString(16).padStart(8, '0')}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

export interface SeededCalmProject {
  projectId: string;
  features: CalmFeature[];
  stories: CalmTask[];
  transports: CalmTransport[];
}

/**
 * Fills a fake Cloud ALM project: `features` features with `storiesPerFeature` user stories each
 * (linked by task assignments) and one transport per feature. Timestamps start at `baseTime`.
 */
export function seedCalmProject(
  calm: FakeCloudAlm,
  options: { projectId: string; tag: number; features: number; storiesPerFeature: number; baseTime?: number },
): SeededCalmProject {
  const base = options.baseTime ?? Date.UTC(2026, 10, 1);
  const features: CalmFeature[] = [];
  const stories: CalmTask[] = [];
  const transports: CalmTransport[] = [];
  for (let f = 0; f < options.features; f++) {
    const feature: CalmFeature = {
      uuid: uuid(options.tag, f),
      displayId: `${options.tag}-${f + 1}`,
      title: `Feature ${options.tag}-${f + 1}`,
      description: `<p>Feature ${f + 1}</p>`,
      statusCode: 'CREATED',
      priorityCode: 30,
      responsibleId: 'lead@example.com',
      projectId: options.projectId,
      modifiedAt: base + f,
      raw: {},
    };
    features.push(feature);
    const transport: CalmTransport = {
      uuid: uuid(options.tag + 0x1000, f),
      transportId: `S4DK9${String(options.tag * 1000 + f).padStart(5, '0')}`,
      description: `Transport of feature ${f + 1}`,
      owner: 'DEV1',
      status: 'modifiable',
      sourceSystem: 'S4D',
      targetSystem: 'S4Q',
      modifiedAt: base + f,
      raw: {},
    };
    transports.push(transport);
    calm.transportRefs.push({ featureUuid: feature.uuid, transportUuid: transport.uuid });
    for (let s = 0; s < options.storiesPerFeature; s++) {
      const n = f * options.storiesPerFeature + s;
      const story: CalmTask = {
        id: uuid(options.tag + 0x2000, n),
        displayId: `US-${options.tag}-${n + 1}`,
        title: `Story ${n + 1} of feature ${f + 1}`,
        description: undefined,
        type: 'CALMUS',
        status: 'CIPUSOPEN',
        subStatus: undefined,
        priorityId: 30,
        assigneeId: 'dev@example.com',
        projectId: options.projectId,
        modifiedAt: base + n,
        raw: {},
      };
      stories.push(story);
      calm.assignments.push({ featureUuid: feature.uuid, taskId: story.id });
    }
  }
  calm.features.push(...features);
  calm.tasks.push(...stories);
  calm.transports.push(...transports);
  return { projectId: options.projectId, features, stories, transports };
}

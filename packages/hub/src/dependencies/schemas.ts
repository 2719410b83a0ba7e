import Type from 'typebox';
import { Timestamp, Uuid } from '../http/schemas.js';

export const DependencyView = Type.Object(
  {
    storyId: Uuid,
    projectId: Uuid,
    displayId: Type.Union([Type.String(), Type.Null()]),
    title: Type.String(),
    status: Type.String({ description: 'The Cloud ALM status code of the story depended on.' }),
    obsolete: Type.Boolean({ description: 'Gone from Cloud ALM.' }),
    open: Type.Boolean({
      description: 'Still holds the story up: the story depended on is neither done (closed) nor gone.',
    }),
    source: Type.Union([Type.Literal('hub'), Type.Literal('calm')], {
      description:
        'hub: added here; calm: a Cloud ALM task relation (DEPENDS_ON, or BLOCKS from the other end).',
    }),
    createdBy: Type.String({ description: 'A user id, or `calm`.' }),
    createdAt: Timestamp,
  },
  { $id: 'StoryDependency' },
);

export const DependencyList = Type.Object({
  items: Type.Array(Type.Ref('StoryDependency')),
  calm: Type.Object({
    refreshed: Type.Boolean({ description: "Whether Cloud ALM's task relations were read for this answer." }),
    message: Type.Union([Type.String(), Type.Null()], { description: 'Why not, when not.' }),
  }),
});

export const AddDependencyBody = Type.Object(
  { dependsOn: Uuid },
  {
    additionalProperties: false,
    description: 'The hub id of a story of the tenant that this story depends on.',
  },
);

export const DependencyParams = Type.Object({ id: Uuid, dependsOnId: Uuid });

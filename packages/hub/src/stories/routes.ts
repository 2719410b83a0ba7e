import type { HttpApp } from '@calmhub/platform';
import Type from 'typebox';
import type { HubDeps } from '../app/deps.js';
import { AUTH_ERRORS, errors, IdParams } from '../http/schemas.js';
import { getFeature, getStory } from './get-story.js';
import { listStories } from './list-stories.js';
import {
  CalmLinkView,
  CalmTransportView,
  FeatureQuery,
  FeatureSummaryView,
  FeatureView,
  StoryGroupsView,
  StoryListQuery,
  StorySummaryView,
  StoryView,
  TransitionView,
  UpdateStoryBody,
} from './schemas.js';
import { updateStory } from './update-story.js';

/** Needs the `Component` schema, registered by the components domain (listed before this one). */
export function registerStoryRoutes(app: HttpApp, deps: HubDeps): void {
  for (const schema of [
    CalmLinkView,
    FeatureSummaryView,
    StorySummaryView,
    TransitionView,
    CalmTransportView,
    StoryView,
    FeatureView,
  ])
    app.addSchema(schema);
  const tags = ['stories'];

  app.get(
    '/api/v1/projects/:id/stories',
    {
      config: { action: 'project.read' },
      schema: {
        tags,
        summary: "The project's user stories from Cloud ALM, grouped by feature",
        description:
          'Paged by story (`limit`, `offset`; `nextOffset` is null on the last page); features in display id order, ' +
          'stories within a feature by `sort`. Obsolete stories (gone from Cloud ALM) only with `includeObsolete`.',
        params: IdParams,
        querystring: StoryListQuery,
        response: { 200: StoryGroupsView, ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => listStories(deps, request.actor, request.params.id, request.query),
  );
  app.get(
    '/api/v1/stories/:id',
    {
      config: { action: 'project.read' },
      schema: {
        tags,
        summary:
          'One user story: Cloud ALM fields, sanitised description, feature, status history, components',
        params: IdParams,
        response: { 200: Type.Ref('Story'), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => getStory(deps, request.actor, request.params.id),
  );
  app.patch(
    '/api/v1/stories/:id',
    {
      config: { action: 'stories.edit' },
      schema: {
        tags,
        summary: "Change a story's hub-side fields (notes, labels); Cloud ALM's fields change in Cloud ALM",
        params: IdParams,
        body: UpdateStoryBody,
        response: { 200: Type.Ref('Story'), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => updateStory(deps, request.actor, request.params.id, request.body, request.id),
  );
  app.get(
    '/api/v1/features/:id',
    {
      config: { action: 'project.read' },
      schema: {
        tags,
        summary: 'One feature with its user stories and the transports Cloud ALM lists on it',
        params: IdParams,
        querystring: FeatureQuery,
        response: { 200: Type.Ref('Feature'), ...errors(...AUTH_ERRORS) },
      },
    },
    async (request) => getFeature(deps, request.actor, request.params.id, request.query),
  );
}

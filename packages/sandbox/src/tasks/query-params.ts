import type { FastifyReply, FastifyRequest } from 'fastify';
import { warnUnknownRouteParams } from '../shared/warnings.js';
import { TASK_LIST_PARAMS } from './service.js';

/**
 * The query parameters each GET route of the Tasks service knows, by route path below the
 * service prefix. Others are ignored as a tenant would, but named in a `Warning` header and the
 * log; routes not listed here are left alone.
 */
const KNOWN_PARAMS: Record<string, readonly string[]> = {
  '/tasks': TASK_LIST_PARAMS,
  '/tasks/:id': [],
  '/tasks/:id/subTasks': [],
  '/tasks/:id/comments': [],
  '/tasks/:id/references': [],
  '/tasks/:id/featureAssignments': [],
  '/tasks/solutionProcessAssignments': ['projectId', 'taskId', 'offset', 'limit'],
  '/workstreams': [],
  '/deliverables': ['projectId'],
  '/deliverables/:id': [],
};

export function warnUnknownTaskParams(request: FastifyRequest, reply: FastifyReply, prefix: string): void {
  warnUnknownRouteParams(request, reply, prefix, KNOWN_PARAMS);
}

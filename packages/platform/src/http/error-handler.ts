import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, codeForStatus, type ErrorCode } from '../errors/app-error.js';

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown; requestId: string };
}

export function errorBody(code: ErrorCode, message: string, requestId: string, details?: unknown): ErrorBody {
  return { error: { code, message, ...(details === undefined ? {} : { details }), requestId } };
}

export interface ErrorHandlerOptions {
  /** Maps a scope's own error type (e.g. an emulator's) onto the closed set of codes. */
  translate?: (error: Error) => AppError | undefined;
}

/**
 * The single place where any thrown error becomes an HTTP answer. Call it on the root
 * instance, or on an encapsulated scope that needs `translate` for its own errors.
 */
export function installErrorHandler(app: FastifyInstance, options: ErrorHandlerOptions = {}): void {
  app.setErrorHandler(
    (thrown: FastifyError | AppError | Error, request: FastifyRequest, reply: FastifyReply) => {
      const error = options.translate?.(thrown) ?? thrown;
      if (error instanceof AppError) {
        if (error.status >= 500) request.log.error({ err: error }, error.message);
        return reply
          .status(error.status)
          .headers(error.headers)
          .send(errorBody(error.code, error.message, request.id, error.details));
      }
      const fastifyError = error as FastifyError;
      if (fastifyError.validation) {
        const details = fastifyError.validation.map((issue) => ({
          location: `${fastifyError.validationContext ?? 'body'}${issue.instancePath || ''}`,
          message: issue.message ?? 'is invalid',
        }));
        return reply
          .status(400)
          .send(
            errorBody(
              'validation_failed',
              `Invalid ${fastifyError.validationContext ?? 'request'}: ${details[0]?.location} ${details[0]?.message}`,
              request.id,
              details,
            ),
          );
      }
      const status = fastifyError.statusCode;
      if (status && status >= 400 && status < 500) {
        return reply.status(status).send(errorBody(codeForStatus(status), fastifyError.message, request.id));
      }
      request.log.error({ err: error }, 'unhandled error');
      return reply
        .status(500)
        .send(errorBody('internal', 'Internal error; quote the request id when reporting it.', request.id));
    },
  );

  app.setNotFoundHandler((request, reply) => {
    reply
      .status(404)
      .send(
        errorBody('not_found', `No route for ${request.method} ${request.url.split('?')[0]}`, request.id),
      );
  });
}

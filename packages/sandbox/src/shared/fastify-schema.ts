// The OpenAPI keywords @fastify/swagger adds to route schemas. Platform registers the plugin,
// but its type augmentation does not reach this package, so the same declarations are repeated
// here (identical types, so they merge when both are loaded).
declare module 'fastify' {
  interface FastifySchema {
    hide?: boolean;
    tags?: readonly string[];
    description?: string;
    summary?: string;
    security?: ReadonlyArray<{ [securityLabel: string]: readonly string[] }>;
  }
}

export {};

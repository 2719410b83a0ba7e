const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const unstorable = (text: string) => text.includes('\u0000') || LONE_SURROGATE.test(text);

/**
 * Where a parsed JSON body holds a string PostgreSQL cannot store (NUL, an unpaired surrogate), as
 * a path such as `fields.summary`, or undefined when every key and string value is storable.
 * Iterative: the body check already bounds the depth, this does not add recursion.
 */
export function unstorablePath(value: unknown): string | undefined {
  const stack: [unknown, string][] = [[value, '']];
  while (stack.length > 0) {
    const [current, path] = stack.pop() as [unknown, string];
    if (typeof current === 'string') {
      if (unstorable(current)) return path || '(body)';
    } else if (Array.isArray(current)) {
      current.forEach((item, index) => {
        stack.push([item, `${path}[${index}]`]);
      });
    } else if (current !== null && typeof current === 'object') {
      for (const [key, item] of Object.entries(current)) {
        const child = path ? `${path}.${key}` : key;
        if (unstorable(key)) return child;
        stack.push([item, child]);
      }
    }
  }
  return undefined;
}

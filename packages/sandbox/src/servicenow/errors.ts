/** An error in ServiceNow's REST shape: `{"error":{"message","detail"},"status":"failure"}` (reference §8). */
export class SnError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly detail: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'SnError';
  }

  body(): { error: { message: string; detail: string | null }; status: 'failure' } {
    return { error: { message: this.message, detail: this.detail }, status: 'failure' };
  }
}

export const noRecord = () =>
  new SnError(404, 'No Record found', "Record doesn't exist or ACL restricts the record retrieval");

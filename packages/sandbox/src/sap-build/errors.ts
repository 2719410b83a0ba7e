/** A workflow API error: `{"error": {"message": "..."}}`, the shape SAP's workflow service answers. */
export class SapBuildError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'SapBuildError';
  }

  body(): { error: { message: string } } {
    return { error: { message: this.message } };
  }
}

/** OAuth answers of the token endpoint, in XSUAA's `{error, error_description}` shape. */
export class SapBuildOAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
    this.name = 'SapBuildOAuthError';
  }

  body(): { error: string; error_description: string } {
    return { error: this.error, error_description: this.description };
  }
}

/**
 * The webhook path in ReleaseOwl's form, so a Cloud ALM webhook set up for ReleaseOwl moves to the
 * hub by editing its destination URL and the ids and key in the path:
 * `ratesaptms/webhook/tenant/<tenant>/project/<project>/calm/pmsint/<integration>/sync?secretKey=<key>`.
 * Cloud ALM's webhook Path field takes it without a leading slash.
 */
export function webhookPath(
  ids: { tenantId: string; projectId: string; integrationId: string },
  secretKey: string,
): string {
  return (
    `ratesaptms/webhook/tenant/${ids.tenantId}/project/${ids.projectId}` +
    `/calm/pmsint/${ids.integrationId}/sync?secretKey=${encodeURIComponent(secretKey)}`
  );
}

export function webhookUrl(publicBaseUrl: string, path: string): string {
  return `${publicBaseUrl.replace(/\/+$/, '')}/${path}`;
}

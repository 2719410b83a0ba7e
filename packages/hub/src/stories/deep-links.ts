/**
 * Links that open an item in the Cloud ALM UI (the "External ID" of ReleaseOwl's guide, item 21).
 * The two templates live here only, so a per-integration override later has one place to go.
 */

export interface DeepLink {
  url: string;
  /** True when the link's form is not confirmed by a source (see cloud-alm-api.md §8). */
  inferred: boolean;
}

/** The Cloud ALM UI base: the integration's API host without a trailing `/api`. */
export function calmUiBase(hostUrl: string): string {
  return hostUrl
    .trim()
    .replace(/\/+$/, '')
    .replace(/\/api$/, '');
}

export function calmDeepLink(hostUrl: string, kind: 'feature' | 'story', calmId: string): DeepLink {
  const base = calmUiBase(hostUrl);
  const id = encodeURIComponent(calmId);
  if (kind === 'feature')
    return {
      url: `${base}/launchpad#feature-display?sap-ui-app-id-hint=com.sap.calm.imp.cdm.features.ui&/list/details/${id}`,
      inferred: false,
    };
  // The app and hint are confirmed for tasks; the `/details/<task id>` fragment is inferred.
  return {
    url: `${base}/launchpad#task-management?sap-ui-app-id-hint=com.sap.calm.imp.tkm.ui&/details/${id}`,
    inferred: true,
  };
}
